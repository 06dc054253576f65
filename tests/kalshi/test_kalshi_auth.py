"""Signing: exactly timestamp + METHOD + path-without-query; key files fail safely."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from kalshi.auth import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    KeyFileError,
    Signer,
    generate_private_key,
    key_kind,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_pem,
    signing_message,
    verify_signature,
)
from kalshi.rest import KalshiRestClient
from tests.kalshi.kalshi_fakes import KEY_ID


def test_signing_message_is_timestamp_method_path_without_query() -> None:
    message = signing_message(1703123456789, "get", "/trade-api/v2/portfolio/orders?ticker=X")
    assert message == b"1703123456789GET/trade-api/v2/portfolio/orders"


def test_signer_headers_verify_and_only_over_the_path(signer: Signer) -> None:
    public = signer.private_key.public_key()
    headers = signer.headers("GET", "/trade-api/v2/portfolio/balance", timestamp_ms=1703123456789)
    assert headers[KEY_HEADER] == KEY_ID
    assert headers[TIMESTAMP_HEADER] == "1703123456789"
    signature = headers[SIGNATURE_HEADER]
    assert verify_signature(
        public, 1703123456789, "GET", "/trade-api/v2/portfolio/balance", signature
    )
    # Any other timestamp, method or path must fail.
    assert not verify_signature(
        public, 1703123456788, "GET", "/trade-api/v2/portfolio/balance", signature
    )
    assert not verify_signature(
        public, 1703123456789, "POST", "/trade-api/v2/portfolio/balance", signature
    )
    assert not verify_signature(
        public, 1703123456789, "GET", "/trade-api/v2/portfolio/orders", signature
    )


def test_rest_client_signs_request_path_without_query(signer: Signer) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"orders": [], "cursor": ""})

    client = KalshiRestClient(
        "http://exchange.test/trade-api/v2",
        signer,
        transport=httpx.MockTransport(handler),
        rate_limit=False,
    )
    with client:
        client.get_orders(ticker="KXSOL15M-26MAY300015-15", status="resting")
    (request,) = seen
    assert request.url.query  # the query string was sent …
    path = urlsplit(str(request.url)).path
    assert path == "/trade-api/v2/portfolio/orders"
    timestamp = request.headers[TIMESTAMP_HEADER]
    signature = request.headers[SIGNATURE_HEADER]
    public = signer.private_key.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    # … but the signature covers exactly timestamp + GET + path, without it.
    assert verify_signature(public, timestamp, "GET", path, signature)
    with_query = f"{timestamp}GET{path}?{request.url.query.decode()}".encode()
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    with pytest.raises(InvalidSignature):
        public.verify(base64.b64decode(signature), with_query, pss, hashes.SHA256())
    assert request.headers[KEY_HEADER] == KEY_ID


@pytest.mark.parametrize("fixture", ["pkcs8_file", "pkcs1_file"])
def test_pkcs8_and_pkcs1_keys_load_and_sign(fixture: str, request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(fixture)
    key = load_private_key(path)
    signer = Signer.from_file("k", path)
    headers = signer.headers("POST", "/trade-api/v2/portfolio/orders", timestamp_ms=42)
    assert verify_signature(
        key.public_key(), 42, "POST", "/trade-api/v2/portfolio/orders", headers[SIGNATURE_HEADER]
    )


def test_pkcs1_file_really_is_pkcs1(pkcs1_file: Path, pkcs8_file: Path) -> None:
    assert pkcs1_file.read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert pkcs8_file.read_text().startswith("-----BEGIN PRIVATE KEY-----")


def _assert_safe(exc: KeyFileError, path: Path, secret_lines: list[str]) -> None:
    text = str(exc)
    assert str(path) in text
    for line in secret_lines:
        assert line not in text
    # No chained exception that could print key material in a traceback.
    assert exc.__cause__ is None
    assert exc.__context__ is None or exc.__suppress_context__


def test_missing_key_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.pem"
    with pytest.raises(KeyFileError, match="not found") as info:
        load_private_key(path)
    _assert_safe(info.value, path, [])


def test_unreadable_key_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "a-directory.pem"
    path.mkdir()  # reading a directory fails even for root
    with pytest.raises(KeyFileError, match="unreadable") as info:
        load_private_key(path)
    _assert_safe(info.value, path, [])


def test_garbage_key_file_does_not_leak_its_bytes(tmp_path: Path, pkcs8_file: Path) -> None:
    lines = pkcs8_file.read_text().splitlines()
    body = lines[1:-1]
    corrupted = "\n".join([lines[0], *body[:5], "!!!not-base64!!!", *body[5:], lines[-1]])
    path = tmp_path / "corrupt.pem"
    path.write_text(corrupted)
    with pytest.raises(KeyFileError, match="not an unencrypted PEM") as info:
        load_private_key(path)
    _assert_safe(info.value, path, [line for line in body if len(line) > 16])

    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"correct horse battery staple \x00\xff")
    with pytest.raises(KeyFileError) as info2:
        load_private_key(junk)
    _assert_safe(info2.value, junk, ["correct horse battery staple"])


def test_encrypted_key_file_is_refused(tmp_path: Path, private_key: rsa.RSAPrivateKey) -> None:
    path = tmp_path / "encrypted.pem"
    path.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pw"),
        )
    )
    with pytest.raises(KeyFileError) as info:
        load_private_key(path)
    _assert_safe(info.value, path, [])


def test_non_rsa_key_file_is_refused(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = tmp_path / "ec.pem"
    path.write_bytes(pem)
    with pytest.raises(KeyFileError, match="neither RSA nor Ed25519") as info:
        load_private_key(path)
    _assert_safe(info.value, path, pem.decode().splitlines()[1:-1])


def test_signer_and_client_reprs_hide_secrets(signer: Signer) -> None:
    assert KEY_ID not in repr(signer)
    client = KalshiRestClient("http://exchange.test/trade-api/v2", signer, rate_limit=False)
    with client:
        assert KEY_ID not in repr(client)


@pytest.fixture(scope="module")
def ed25519_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "ed25519.pem"
    path.write_bytes(private_key_pem(generate_private_key("ed25519")))
    return path


def test_ed25519_key_is_detected_from_the_pem_and_signs_the_same_message(
    ed25519_file: Path,
) -> None:
    assert ed25519_file.read_text().startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8
    key = load_private_key(ed25519_file)
    assert isinstance(key, ed25519.Ed25519PrivateKey) and key_kind(key) == "ed25519"
    signer = Signer.from_file("k", ed25519_file)
    path = "/trade-api/v2/portfolio/events/orders"
    headers = signer.headers("POST", path, timestamp_ms=1703123456789)
    signature = base64.b64decode(headers[SIGNATURE_HEADER])
    assert len(signature) == 64  # an Ed25519 signature, not RSA-PSS
    public = key.public_key()
    public.verify(signature, b"1703123456789POST" + path.encode())  # raises if wrong
    assert verify_signature(public, 1703123456789, "POST", path, headers[SIGNATURE_HEADER])
    assert not verify_signature(public, 1703123456789, "GET", path, headers[SIGNATURE_HEADER])
    assert not verify_signature(
        public, 1703123456789, "POST", path + "/x", headers[SIGNATURE_HEADER]
    )
    # The query string is not signed, for Ed25519 as for RSA.
    assert verify_signature(public, 1703123456789, "POST", path + "?x=1", headers[SIGNATURE_HEADER])
    # Ed25519 is deterministic: the same message gives the same signature.
    assert signer.sign(1703123456789, "POST", path) == headers[SIGNATURE_HEADER]


def test_rsa_keys_still_sign_with_pss(signer: Signer) -> None:
    assert key_kind(signer.private_key) == "rsa"
    one = signer.sign(42, "GET", "/trade-api/v2/portfolio/balance")
    two = signer.sign(42, "GET", "/trade-api/v2/portfolio/balance")
    assert one != two  # PSS is salted
    public = signer.private_key.public_key()
    assert verify_signature(public, 42, "GET", "/trade-api/v2/portfolio/balance", one)
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    public.verify(  # type: ignore[call-arg]
        base64.b64decode(one), b"42GET/trade-api/v2/portfolio/balance", pss, hashes.SHA256()
    )


def test_public_keys_of_both_kinds_round_trip(signer: Signer) -> None:
    ed = generate_private_key("ed25519")
    for key in (signer.private_key, ed):
        pem = public_key_pem(key.public_key())
        loaded = load_public_key(pem)
        headers = Signer("k", key).headers("GET", "/trade-api/ws/v2", timestamp_ms=7)
        assert verify_signature(loaded, 7, "GET", "/trade-api/ws/v2", headers[SIGNATURE_HEADER])
    # A signature by one key never verifies under the other.
    ed_sig = Signer("k", ed).sign(7, "GET", "/p")
    assert not verify_signature(signer.private_key.public_key(), 7, "GET", "/p", ed_sig)
    with pytest.raises(KeyFileError, match="neither an RSA nor an Ed25519"):
        load_public_key(
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    with pytest.raises(ValueError, match="unknown key kind"):
        generate_private_key("dsa")


def test_rest_client_signs_with_an_ed25519_key(ed25519_file: Path) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"balance": 1, "portfolio_value": 0, "updated_ts": 1})

    signer = Signer.from_file("ed-key", ed25519_file)
    with KalshiRestClient(
        "http://exchange.test/trade-api/v2",
        signer,
        transport=httpx.MockTransport(handler),
        rate_limit=False,
    ) as client:
        client.get_balance()
    (request,) = seen
    public = load_private_key(ed25519_file).public_key()
    assert verify_signature(
        public,
        request.headers[TIMESTAMP_HEADER],
        "GET",
        "/trade-api/v2/portfolio/balance",
        request.headers[SIGNATURE_HEADER],
    )
