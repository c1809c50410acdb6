"""A correction made with the CLI while the service runs reaches the service's answers
without a reload: the worker notices the store's newer record version and re-reads the
history on its own."""

from __future__ import annotations

import time

import bentoml
import pandas as pd

from riskwarn.cli import main
from riskwarn.features import open_disputes
from riskwarn.serving import Scorer
from riskwarn.serving._scorer import Target
from riskwarn.training import load_model

from .conftest import App, Served


def _explained(app: App, dispute: str, as_of: pd.Timestamp) -> dict:
    body = {"dispute_id": dispute, "as_of": as_of.isoformat()}
    r = app.client.post("/v1/explain", json=body, headers=app.keys.header("supervisor"))
    assert r.status_code == 200, r.text
    return r.json()


def _threat(answer: dict) -> object:
    return next(c["value"] for c in answer["contributions"] if c["feature"] == THREAT)


THREAT = "case_threat_reported"


def test_a_cli_correction_reaches_a_running_service_without_a_reload(
    app: App, served: Served
) -> None:
    day = served.dataset.end.normalize() + pd.Timedelta(hours=12)
    disputes = served.dataset.disputes.set_index("dispute_id")
    dispute = next(
        d for d in open_disputes(served.dataset, day) if not disputes.loc[d, "threat_reported"]
    )
    assert not _threat(_explained(app, dispute, day))
    svc = bentoml.get_current_service()
    seen = svc.records_seen
    status = main(
        [
            "records",
            "correct",
            "disputes",
            "--id",
            dispute,
            "--set",
            "threat_reported=true",
            "--set",
            "weapon_mentioned=true",
            "--reason",
            "the intake form lost the threat",
            "--db",
            app.store.url,
            "--no-recompute",
        ]
    )
    assert status == 0  # nothing tells the service: it looks for itself

    deadline = time.monotonic() + 30
    answer = _explained(app, dispute, day)
    while not _threat(answer) and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = _explained(app, dispute, day)
    assert _threat(answer), "the service still scores from the uncorrected history"
    assert svc.records_seen == app.store.records_version() > seen
    corrected = Scorer(load_model(tracking_uri=served.tracking_uri), app.store.read_dataset())
    expected = corrected.score([Target(dispute, day, "dispute_id")])
    assert answer["risk"] == float(expected.risk[0])
    assert svc.refresh_records() is False  # seen: nothing more to read
