"""Keys: shown once, stored as a hash, 401 for unknown or revoked, 403 for the wrong role."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from riskwarn.errors import AuthenticationError, PermissionDeniedError, RequestError
from riskwarn.serving import Store, authenticate, authorize, bearer_key, create_key


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'service.db'}").create()


def test_only_a_hash_of_the_key_is_stored(store: Store) -> None:
    name, key = create_key(store, "scorer", "platform")
    assert name == "platform" and len(key) > 40
    with store.engine.connect() as conn:
        cells = [str(v) for row in conn.execute(sa.text("SELECT * FROM api_keys")) for v in row]
    assert all(key not in cell and key.split("_")[-1] not in cell for cell in cells)
    caller = authenticate(store, key)
    assert (caller.name, caller.role) == ("platform", "scorer")


def test_wrong_and_revoked_keys_are_refused(store: Store) -> None:
    name, key = create_key(store, "admin")
    assert name.startswith("admin-")
    with pytest.raises(AuthenticationError) as info:
        authenticate(store, key[:-2] + ("xx" if not key.endswith("xx") else "yy"))
    assert info.value.http_status_code() == 401
    with pytest.raises(AuthenticationError):
        authenticate(store, "not-a-key")
    assert store.revoke_key(name)
    with pytest.raises(AuthenticationError, match="revoked"):
        authenticate(store, key)
    assert not store.revoke_key(name)


def test_roles_and_names_are_checked(store: Store) -> None:
    with pytest.raises(RequestError, match="role must be one of scorer, supervisor, admin"):
        create_key(store, "root")
    create_key(store, "scorer", "dup")
    with pytest.raises(RequestError, match="exists already"):
        create_key(store, "admin", "dup")
    caller = authenticate(store, create_key(store, "scorer")[1])
    authorize(caller, ("scorer", "admin"), "POST /v1/score")
    with pytest.raises(PermissionDeniedError, match="needs a key with role admin") as info:
        authorize(caller, ("admin",), "POST /v1/ingest")
    assert info.value.http_status_code() == 403


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "Bearer"])
def test_the_header_must_carry_a_bearer_key(header: str | None) -> None:
    with pytest.raises(AuthenticationError, match="Bearer"):
        bearer_key(header)


def test_bearer_key_reads_the_key() -> None:
    assert bearer_key("Bearer rwk_1_abc ") == "rwk_1_abc"
    assert bearer_key("bearer rwk_1_abc") == "rwk_1_abc"


@pytest.mark.parametrize("name", ["k" * 129, "a\x00b", "tab\tname", " "])
def test_a_key_name_the_audit_log_cannot_keep_is_refused(store: Store, name: str) -> None:
    with pytest.raises(RequestError, match="--name: expected 1 to 128 printable"):
        create_key(store, "scorer", name)
    assert store.list_keys() == []
