"""Fixtures for the Kalshi wire-layer tests: keys, the fake exchange and a client on it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from loguru import logger

from kalshi.auth import Signer, generate_private_key, private_key_pem
from kalshi.backoff import Backoff
from kalshi.rest import KalshiRestClient
from tests.kalshi.kalshi_fakes import BASE, KEY_ID, FakeKalshi


@pytest.fixture(scope="session")
def private_key() -> rsa.RSAPrivateKey:
    key = generate_private_key()
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@pytest.fixture(scope="session")
def signer(private_key: rsa.RSAPrivateKey) -> Signer:
    return Signer(KEY_ID, private_key)


@pytest.fixture(scope="session")
def pkcs8_file(tmp_path_factory: pytest.TempPathFactory, private_key: rsa.RSAPrivateKey) -> Path:
    path = tmp_path_factory.mktemp("keys") / "pkcs8.pem"
    path.write_bytes(private_key_pem(private_key))
    return path


@pytest.fixture(scope="session")
def pkcs1_file(tmp_path_factory: pytest.TempPathFactory, private_key: rsa.RSAPrivateKey) -> Path:
    path = tmp_path_factory.mktemp("keys") / "pkcs1.pem"
    path.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.fixture
def fake() -> FakeKalshi:
    return FakeKalshi()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(fake: FakeKalshi, signer: Signer, sleeps: list[float]) -> Iterator[KalshiRestClient]:
    with KalshiRestClient(
        BASE,
        signer,
        transport=fake.transport(),
        rate_limit=False,
        backoff=Backoff(base=0.1, maximum=1.0, rng=random.Random(3)),
        sleep=sleeps.append,
        max_attempts=4,
    ) as rest:
        yield rest


@pytest.fixture
def logs() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lines.append, format="{message}", level="DEBUG")
    yield lines
    logger.remove(sink)
