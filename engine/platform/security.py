"""API key secrets and signed customer tokens.

Keys look like ``nk_<id>.<secret>``; only SHA-256 of the secret is stored (the secret has
256 bits of entropy, so a slow hash adds nothing). Customer tokens and one-click links are
HMAC-SHA256 signed, compact and expiring.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from engine.errors import Unauthorized

KEY_PREFIX = "nk_"
TOKEN_PREFIX = "nct."


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    plaintext: str
    secret_hash: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(key_id: str) -> IssuedKey:
    """A new key's plaintext (shown once) and the hash to store."""
    secret = secrets.token_urlsafe(32)
    return IssuedKey(key_id, f"{key_id}.{secret}", hash_secret(secret))


def split_key(plaintext: str) -> tuple[str, str]:
    """``(key_id, secret)`` of a presented key, or Unauthorized."""
    key_id, sep, secret = plaintext.partition(".")
    if not sep or not key_id.startswith(KEY_PREFIX) or not secret:
        raise Unauthorized("malformed API key")
    return key_id, secret


def same_secret(presented: str, expected: str) -> bool:
    """Constant-time equality that also accepts non-ASCII input (headers arrive as latin-1)."""
    return hmac.compare_digest(presented.encode(), expected.encode())


def secret_matches(secret: str, stored_hash: str) -> bool:
    return same_secret(hash_secret(secret), stored_hash)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret_key: str, purpose: str, payload: str) -> str:
    digest = hmac.new(secret_key.encode(), f"{purpose}:{payload}".encode(), hashlib.sha256)
    return _b64(digest.digest())


def sign(secret_key: str, purpose: str, claims: dict[str, Any]) -> str:
    """A compact signed token for ``purpose`` (tokens of one purpose never pass as another)."""
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_mac(secret_key, purpose, payload)}"


def verify(secret_key: str, purpose: str, token: str, now_ts: float) -> dict[str, Any]:
    """The claims of a valid, unexpired token; Unauthorized otherwise."""
    payload, sep, mac = token.partition(".")
    if not sep or not same_secret(mac, _mac(secret_key, purpose, payload)):
        raise Unauthorized("invalid token signature")
    try:
        claims = json.loads(_unb64(payload))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unauthorized("malformed token") from exc
    if not isinstance(claims, dict):
        raise Unauthorized("malformed token")
    exp = claims.get("exp")
    if exp is not None and (not isinstance(exp, int | float) or exp < now_ts):
        raise Unauthorized("token expired")
    return claims
