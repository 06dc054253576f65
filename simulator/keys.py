"""API keys: which public key signs for which user, and request verification.

Kalshi signs ``timestamp_ms + METHOD + path`` (path from ``/trade-api``,
without the query) with RSA-PSS (SHA-256, salt 32) or Ed25519, whichever key
the API key is; the timestamp must be within 30 seconds of the server's clock.
Failures are 401s with Kalshi's error body, and the message says what was
wrong without echoing anything secret. The exchange verifies on its own, not
through the client's signing code.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from kalshi.auth import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, KeyFileError
from simulator import errors

MAX_SKEW_MS = 30_000
PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    user_id: str
    public_key: PublicKey


def load_public_key(data: bytes) -> PublicKey:
    """An RSA or Ed25519 public key from PEM; :class:`KeyFileError` otherwise."""
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise KeyFileError("public key: not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise KeyFileError("public key: not an RSA or Ed25519 public key")
    return key


def verify(key: PublicKey, timestamp: str, method: str, path: str, signature_b64: str) -> bool:
    """Whether ``signature_b64`` signs ``timestamp + method + path`` with ``key``."""
    message = f"{timestamp}{method}{path}".encode()
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, _PSS, hashes.SHA256())
        else:
            key.verify(signature, message)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


class KeyRegistry:
    """key id → public key → user. Safe to register keys from any thread."""

    def __init__(self, wall_clock: Callable[[], float] = time.time) -> None:
        self._keys: dict[str, ApiKey] = {}
        self._lock = threading.Lock()
        self._wall_clock = wall_clock

    def register(self, key_id: str, public_key: PublicKey | bytes, user_id: str) -> ApiKey:
        key = load_public_key(public_key) if isinstance(public_key, bytes) else public_key
        entry = ApiKey(key_id, user_id, key)
        with self._lock:
            self._keys[key_id] = entry
        return entry

    def lookup(self, key_id: str) -> ApiKey | None:
        with self._lock:
            return self._keys.get(key_id)

    @staticmethod
    def has_credentials(headers: Mapping[str, str]) -> bool:
        return any(name in headers for name in (KEY_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER))

    def authenticate(self, headers: Mapping[str, str], method: str, path: str) -> ApiKey:
        """The key that signed this request; raises a 401 :class:`ExchangeError` otherwise."""
        key_id = headers.get(KEY_HEADER)
        timestamp = headers.get(TIMESTAMP_HEADER)
        signature = headers.get(SIGNATURE_HEADER)
        if not key_id or not timestamp or not signature:
            raise errors.unauthorized(
                "authentication required",
                f"send {KEY_HEADER}, {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}",
            )
        entry = self.lookup(key_id)
        if entry is None:
            raise errors.unauthorized(
                "unknown API key",
                "this key id is not registered on this exchange (keys work only in the "
                "environment that issued them)",
            )
        try:
            stamp = int(timestamp)
        except ValueError:
            raise errors.unauthorized(
                "invalid timestamp", f"{TIMESTAMP_HEADER} must be Unix milliseconds"
            ) from None
        skew = stamp - self._wall_clock() * 1000
        if abs(skew) > MAX_SKEW_MS:
            raise errors.unauthorized(
                "timestamp outside the allowed window",
                f"{TIMESTAMP_HEADER} is {skew / 1000:+.1f} s from server time (max ±30 s)",
            )
        if not verify(entry.public_key, timestamp, method, path, signature):
            raise errors.unauthorized(
                "invalid signature",
                "the signature must cover timestamp + METHOD + path (no query string)",
            )
        return entry
