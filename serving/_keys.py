"""API keys: made once, shown once, stored only as a hash, checked in constant time.

A key reads ``rwk_<id>_<secret>``: the id finds the stored row, the secret is 256 random
bits. Only the SHA-256 of the whole key is stored (a fast hash is enough for random keys
of this length; there is nothing to guess). Roles say which endpoints a key may use.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from riskwarn.errors import AuthenticationError, PermissionDeniedError, RequestError
from riskwarn.serving._schema import ID_LENGTH
from riskwarn.serving._store import Store
from riskwarn.vocab import ROLES

_PREFIX = "rwk"
# A hash nobody's key has, compared against when the key id is unknown, so that an unknown
# id and a wrong secret take the same time.
_DUMMY_HASH = hashlib.sha256(b"riskwarn: no such key").hexdigest()


@dataclass(frozen=True)
class Caller:
    """Who made a request: the key's name (written to the audit log) and its role."""

    name: str
    role: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh ``(key_id, key)``."""
    key_id = secrets.token_hex(6)
    return key_id, f"{_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"


def create_key(
    store: Store, role: str, name: str | None = None, *, by: str = "cli", request_id: str = "-"
) -> tuple[str, str]:
    """Make a key for ``role``, store its hash (audited as made ``by``), and return
    ``(name, key)``.

    The key itself is returned once and never stored.
    """
    if role not in ROLES:
        raise RequestError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    key_id, key = new_key()
    name = name or f"{role}-{key_id}"
    if not name.strip() or len(name) > ID_LENGTH or not name.isprintable():
        raise RequestError(
            f"--name: expected 1 to {ID_LENGTH} printable characters (it goes into the audit "
            f"log), got {name[:40]!r}"
        )
    if name in store.key_names():
        raise RequestError(
            f"a key named {name!r} exists already; choose another --name or revoke it first"
        )
    store.add_key(key_id, name, role, hash_key(key), by=by, request_id=request_id)
    return name, key


def _key_id(key: str) -> str | None:
    parts = key.split("_", 2)
    if len(parts) == 3 and parts[0] == _PREFIX and parts[1]:
        return parts[1]
    return None


def bearer_key(authorization: str | None) -> str:
    """The key in an ``Authorization: Bearer KEY`` header, or AuthenticationError.

    A refusal never quotes the header: whatever it holds may be a key, and messages end up
    in client and proxy logs.
    """
    if not authorization:
        raise AuthenticationError(
            "expected a header 'Authorization: Bearer KEY', got none; "
            "create a key with `riskwarn keys create --role ROLE`"
        )
    scheme, _, key = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise AuthenticationError(
            "expected 'Authorization: Bearer KEY', got an Authorization header of another "
            "form; send the key after 'Bearer '"
        )
    return key.strip()


def authenticate(store: Store, key: str) -> Caller:
    """The caller behind ``key``; AuthenticationError when it is unknown or revoked."""
    key_id = _key_id(key)
    row = store.key_row(key_id) if key_id else None
    stored = row["key_hash"] if row else _DUMMY_HASH
    if not hmac.compare_digest(stored, hash_key(key)) or row is None:
        raise AuthenticationError(
            "the key is not known to this service or was revoked; ask an admin for a key "
            "(`riskwarn keys create`)"
        )
    return Caller(name=row["name"], role=row["role"])


def authorize(caller: Caller, allowed: tuple[str, ...], what: str) -> None:
    """PermissionDeniedError unless the caller's role is one of ``allowed``."""
    if caller.role not in allowed:
        raise PermissionDeniedError(
            f"{what} needs a key with role {' or '.join(allowed)}, got a {caller.role!r} key "
            f"({caller.name}); use a key of the right role"
        )
