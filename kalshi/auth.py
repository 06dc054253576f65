"""Request signing and verification, as Kalshi specifies it: RSA-PSS or Ed25519.

The signature covers ``timestamp_ms + METHOD + path`` where the path starts at
``/trade-api`` and carries no query string. The body is not signed, so a header
signed moments ago is valid for any body sent to the same path. Which algorithm is
used follows from the key itself (the PEM says whether it is RSA or Ed25519), so a
user only ever hands us a key file.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

KEY_HEADER = "KALSHI-ACCESS-KEY"
TIMESTAMP_HEADER = "KALSHI-ACCESS-TIMESTAMP"
SIGNATURE_HEADER = "KALSHI-ACCESS-SIGNATURE"
WS_PATH = "/trade-api/ws/v2"

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey
KEY_KINDS = ("rsa", "ed25519")


class KeyFileError(ValueError):
    """A key file that cannot be used. The message names the path, never the key."""


def signing_path(url_or_path: str) -> str:
    """The part of a URL Kalshi signs: the path only, without query or fragment."""
    return urlsplit(url_or_path).path


def signing_message(timestamp_ms: int | str, method: str, path: str) -> bytes:
    return f"{timestamp_ms}{method.upper()}{signing_path(path)}".encode()


def load_private_key(path: str | Path) -> PrivateKey:
    """Load a PEM private key — RSA (PKCS#8 or PKCS#1) or Ed25519 (PKCS#8) — with errors
    that name only the path."""
    key_path = Path(path)
    try:
        data = key_path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(f"private key file not found: {key_path}") from None
    except OSError as exc:
        raise KeyFileError(f"private key file unreadable: {key_path} ({exc.strerror})") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise KeyFileError(
            f"private key file is not an unencrypted PEM private key: {key_path}"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise KeyFileError(
            f"private key file holds a key that is neither RSA nor Ed25519: {key_path}"
        )
    return key


def load_public_key(data: bytes, source: str = "public key") -> PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise KeyFileError(f"{source}: not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise KeyFileError(f"{source}: neither an RSA nor an Ed25519 public key")
    return key


def generate_private_key(kind: str = "rsa") -> PrivateKey:
    """A new key of ``kind`` (``rsa``: 2048 bits, or ``ed25519``)."""
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unknown key kind {kind!r}; known: {', '.join(KEY_KINDS)}")


def key_kind(key: PrivateKey | PublicKey) -> str:
    return (
        "ed25519"
        if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey)
        else "rsa"
    )


def sign_message(key: PrivateKey, message: bytes) -> bytes:
    """RSA-PSS (SHA-256, MGF1-SHA-256, salt 32) or plain Ed25519, as the key dictates."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    return key.sign(message, _PSS, hashes.SHA256())


def private_key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def verify_signature(
    public_key: PublicKey,
    timestamp_ms: int | str,
    method: str,
    path: str,
    signature_b64: str,
) -> bool:
    message = signing_message(timestamp_ms, method, path)
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        if isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, message)
        else:
            public_key.verify(signature, message, _PSS, hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class Signer:
    """Signs requests for one API key. ``repr`` hides the key id and the key."""

    key_id: str
    private_key: PrivateKey

    def __repr__(self) -> str:
        return "Signer(key_id=<redacted>)"

    @classmethod
    def from_file(cls, key_id: str, path: str | Path) -> Signer:
        return cls(key_id, load_private_key(path))

    def sign(self, timestamp_ms: int, method: str, path: str) -> str:
        signature = sign_message(self.private_key, signing_message(timestamp_ms, method, path))
        return base64.b64encode(signature).decode()

    def headers(self, method: str, path: str, timestamp_ms: int | None = None) -> dict[str, str]:
        """The three auth headers for a request signed now (or at ``timestamp_ms``)."""
        ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        return {
            KEY_HEADER: self.key_id,
            TIMESTAMP_HEADER: str(ts),
            SIGNATURE_HEADER: self.sign(ts, method, path),
        }
