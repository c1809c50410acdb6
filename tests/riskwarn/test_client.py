"""The client the case platform uses, against the service in process."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from riskwarn.client import BATCH_LIMIT, RiskClient
from riskwarn.errors import (
    AuthenticationError,
    ContractError,
    PermissionDeniedError,
    RequestError,
    UnknownRecordError,
)
from riskwarn.features import open_disputes

from ..serving.conftest import App, Served, app, served  # noqa: F401 - fixtures


@pytest.fixture(scope="module")
def clients(app: App) -> Iterator[dict[str, RiskClient]]:  # noqa: F811
    yield {
        role: RiskClient("http://testserver", getattr(app.keys, role), client=app.client)
        for role in ("scorer", "supervisor", "admin")
    }


def _open(served: Served, n: int) -> tuple[list[str], pd.Timestamp]:  # noqa: F811
    as_of = served.dataset.end.normalize()
    return open_disputes(served.dataset, as_of)[:n], as_of


def test_score_batch_and_explain(clients: dict[str, RiskClient], served: Served) -> None:  # noqa: F811
    ids, as_of = _open(served, 3)
    one = clients["scorer"].score(ids[0], as_of=as_of.to_pydatetime(), top_k=2)
    assert one["dispute_id"] == ids[0] and len(one["reasons"]) <= 2
    assert one["as_of"] == as_of.strftime("%Y-%m-%dT%H:%M:%S")
    whole_day = clients["scorer"].score(ids[0], as_of=as_of.date())  # a date: its end
    assert whole_day["as_of"] == as_of.strftime("%Y-%m-%dT23:59:59")
    many = clients["scorer"].score_batch({"dispute_id": d, "as_of": as_of} for d in ids)
    assert [m["dispute_id"] for m in many] == ids and [m["index"] for m in many] == [0, 1, 2]
    assert many[0]["result"]["risk"] == pytest.approx(one["risk"], abs=1e-12)
    assert one["tier"] in ("red", "orange", "yellow", "blue") and "tier_model" in one
    explained = clients["supervisor"].explain(ids[0], as_of=as_of.to_pydatetime())
    assert explained["risk"] == pytest.approx(one["risk"], abs=1e-12)
    assert clients["scorer"].model()["version"] == one["model_version"]


def test_batches_over_the_limit_are_split(clients: dict[str, RiskClient], served: Served) -> None:  # noqa: F811
    ids, as_of = _open(served, 1)
    results = clients["scorer"].score_batch(
        [{"dispute_id": ids[0], "as_of": as_of}] * (BATCH_LIMIT + 5)
    )
    assert len(results) == BATCH_LIMIT + 5
    assert [r["index"] for r in results] == list(range(BATCH_LIMIT + 5))
    assert len({r["result"]["risk"] for r in results}) == 1


def test_errors_come_back_as_riskwarn_errors(
    clients: dict[str, RiskClient],
    app: App,  # noqa: F811
    served: Served,  # noqa: F811
) -> None:
    ids, as_of = _open(served, 1)
    with pytest.raises(UnknownRecordError, match="dispute_id"):
        clients["scorer"].score("NO-SUCH-DISPUTE", as_of=as_of)
    with pytest.raises(RequestError, match="as_of") as info:
        clients["scorer"].score(ids[0], as_of="31/12/2024")
    assert str(info.value).count("as_of: expected a date") == 1
    with pytest.raises(RequestError, match=r"top_k: expected at most 50, got 99 \(request ") as e:
        clients["scorer"].score(ids[0], top_k=99, request_id="platform-123")
    assert str(e.value).endswith("(request platform-123)")
    with pytest.raises(PermissionDeniedError, match="role"):
        clients["scorer"].explain(ids[0])
    stranger = RiskClient("http://testserver", "rwk_0_not-a-key", client=app.client)
    with pytest.raises(AuthenticationError):
        stranger.score(ids[0])
    with pytest.raises(ContractError, match="person_id") as bad:
        clients["admin"].ingest({"persons": [{"person_id": 5, "gender": "male", "grid_id": "G"}]})
    assert bad.value.issues[0]["field"] == "person_id"
