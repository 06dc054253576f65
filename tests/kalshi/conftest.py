"""Fixtures for the Kalshi wire-layer tests: one RSA key for the session, key files."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from kalshi_fakes import KEY_ID

from kalshi.auth import Signer, generate_private_key, private_key_pem


@pytest.fixture(scope="session")
def private_key() -> rsa.RSAPrivateKey:
    return generate_private_key()


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
