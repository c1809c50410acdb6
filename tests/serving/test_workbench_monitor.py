"""The model page shows the served model's latest ``riskwarn monitor`` run (read by the
service when it starts): when and on which data it ran, the most drifted features by
importance-weighted drift, estimated and realised performance per month and the alarms by
kind, Chinese first; without a run, it says how to make one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from riskwarn.cli import main
from riskwarn.features import REGISTRY
from riskwarn.serving import Scorer, service
from riskwarn.training import latest_monitor, load_model

from .conftest import Served, forget_bentoml_metrics, fresh_store, make_client
from .test_workbench import SECRET, mounted, sign_in


@pytest.fixture(scope="module")
def monitored(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A monitor run of the served model, then the service started over its own store."""
    assert main(["monitor", str(served.data), "--as-of", "2024-12-31"]) == 0
    path = tmp_path_factory.mktemp("monitored") / "service.db"
    store, keys = fresh_store(served, path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RISKWARN_DB_URL", f"sqlite:///{path}")
        mp.setenv("RISKWARN_SESSION_SECRET", SECRET)
        forget_bentoml_metrics()
        try:
            with make_client(service.to_asgi()) as client:
                yield SimpleNamespace(client=client, keys=keys, store=store)
        finally:
            forget_bentoml_metrics()


def test_the_model_page_shows_the_latest_monitor_run(monitored: Any, served: Served) -> None:
    client = monitored.client
    assert sign_in(client, monitored.keys.supervisor).status_code == 303
    page = client.get("/ui/model")
    assert page.status_code == 200
    result = latest_monitor("1", served.tracking_uri)
    assert result is not None
    section = page.text[page.text.index('id="monitor"') :]
    assert "最近一次监测" in section and "「county」" in section  # when, and on which data
    assert "截至 2024-12-31" in section
    drifted = re.findall(r'<tr data-feature="([^"]+)"><td title="[^"]+">([^<]+)</td>', section)
    expected = list(result.ranking(5)["feature"])
    assert [f for f, _ in drifted] == expected
    for feature, words in drifted:
        assert words == REGISTRY.get(feature).description_zh.replace("'", "&#39;")
    months = re.findall(r'<tr data-matured="(yes|no)">', section)
    assert len(months) == len(result.months)
    assert months.count("yes") == sum(m.matured for m in result.months)
    kinds = dict(re.findall(r'<li data-kind="([a-z_]+)" data-count="(\d+)">', section))
    for kind in ("observed_expected", "calibration_slope", "auc_below_training", "feature_psi"):
        assert int(kinds[kind]) == sum(a.kind == kind for a in result.alarms)
    english = client.get("/ui/model?lang=en").text
    assert "Latest monitor run" in english and "Most drifted features" in english


def test_without_a_run_the_model_page_says_how_to_make_one(served: Served, tmp_path: Path) -> None:
    store, keys = fresh_store(served, tmp_path / "service.db")
    scorer = Scorer(load_model(tracking_uri=served.tracking_uri), store.read_dataset())
    backend = SimpleNamespace(store=store, scorer=scorer, monitor=None)
    with make_client(mounted(backend, secret=SECRET)) as client:
        assert sign_in(client, keys.supervisor).status_code == 303
        page = client.get("/ui/model")
    assert page.status_code == 200
    assert 'id="monitor-empty"' in page.text and "riskwarn monitor" in page.text
    assert 'id="top-drift"' not in page.text
