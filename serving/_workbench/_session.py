"""Sessions of the workbench: a signed cookie that names a live key, never holds it.

After sign-in the cookie carries the key's id, a prefix of its stored hash, the key's
name and role, a random session id, a CSRF token and the time it was issued; it is signed
with the session secret (HMAC, itsdangerous) so a changed cookie is refused. Every request
checks again that the key is still live, so revoking a key ends its sessions at once, and
that the session was not signed out (``_revoked``), so a copy of the cookie dies with it.

The secret comes from the settings (``RISKWARN_SESSION_SECRET``), else from
``session_secret`` in the state folder, written there with mode 0600 the first time.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import tempfile
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from riskwarn.config import Settings
from riskwarn.errors import ConfigError

COOKIE = "rw_session"
LANG_COOKIE = "rw_lang"
MAX_AGE = 10 * 3600  # one working day; sign in again after that
SECRET_ENV = "RISKWARN_SESSION_SECRET"
SECRET_FILE = "session_secret"
_SALT = "riskwarn.workbench.session"
HASH_PREFIX = 32


def session_secret(settings: Settings) -> str:
    """The signing secret: the settings' (the environment's), else the state folder's (made
    when missing)."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value()
    folder = settings.home
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SECRET_FILE
    if not path.exists():
        # Write a candidate aside, then link it into place: linking fails when another
        # worker got there first, so every worker ends up reading one complete secret.
        fd, candidate = tempfile.mkstemp(dir=folder, prefix=".session_secret.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_urlsafe(48) + "\n")
            os.chmod(candidate, 0o600)
            with contextlib.suppress(FileExistsError):
                os.link(candidate, path)
        finally:
            os.unlink(candidate)
    secret = path.read_text(encoding="utf-8").strip()
    if len(secret) < 32:
        raise ConfigError(
            f"expected a session secret of at least 32 characters in {path}, got "
            f"{len(secret)}; delete the file to have a new one made, or set {SECRET_ENV}"
        )
    return secret


class Sessions:
    """Signs and reads session cookies with one secret."""

    def __init__(self, secret: str, max_age: int = MAX_AGE) -> None:
        self.max_age = max_age
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)

    def dump(self, session: dict[str, Any]) -> str:
        return self._serializer.dumps(session)

    def load(self, cookie: str | None) -> dict[str, Any]:
        """The session in ``cookie``; an empty one when it is missing, changed or too old."""
        if not cookie:
            return {}
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return {}
        return data if isinstance(data, dict) else {}


def new_token() -> str:
    return secrets.token_urlsafe(24)


def same_token(expected: object, given: object) -> bool:
    """Constant-time comparison of two CSRF tokens; False when either is missing."""
    if not isinstance(expected, str) or not isinstance(given, str) or not expected:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def signed_in(key_id: str, key_hash: str, name: str, role: str) -> dict[str, Any]:
    """A fresh session for a checked key: a new id (what sign-out ends) and a new CSRF
    token, so none from before survives."""
    return {
        "sid": secrets.token_urlsafe(16),
        "kid": key_id,
        "kh": key_hash[:HASH_PREFIX],
        "name": name,
        "role": role,
        "csrf": new_token(),
    }


def still_live(session: dict[str, Any], row: dict[str, Any] | None) -> bool:
    """Whether the stored key ``row`` is the live key the session was made for."""
    if row is None or not session.get("kh"):
        return False
    return hmac.compare_digest(str(row["key_hash"])[:HASH_PREFIX], str(session["kh"]))
