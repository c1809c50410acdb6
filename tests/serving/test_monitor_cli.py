"""``riskwarn monitor`` without a dataset directory reads the history the service holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskwarn.cli import main
from riskwarn.serving import Store
from riskwarn.training import latest_monitor

from .conftest import Served, Serving, fresh_store, serve_env


def test_monitor_reads_the_service_store_without_a_directory(  # type: ignore[no-untyped-def]
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("RISKWARN_HOME", str(served.home))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", served.tracking_uri)
    url = f"sqlite:///{tmp_path / 'service.db'}"
    Store(url).create().append_history(served.dataset.tables())
    status = main(["monitor", "--db", url, "--as-of", "2024-12-31"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "as of 2024-12-31 23:59:59" in out and "Per month" in out
    found = latest_monitor("1", served.tracking_uri)
    assert found is not None and found.months and not any(m.matured for m in found.months)
    # the same history read from its directory gives the same months
    assert main(["monitor", str(served.data), "--as-of", "2024-12-31"]) == 0
    again = latest_monitor("1", served.tracking_uri)
    assert again is not None
    assert [m.model_dump() for m in again.months] == [m.model_dump() for m in found.months]


def test_monitor_without_a_model_says_what_to_do(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RISKWARN_HOME", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    Store(url).create()
    assert main(["monitor", "--db", url]) == 1
    assert "riskwarn: error:" in capsys.readouterr().err


@pytest.mark.slow
def test_the_service_publishes_the_latest_monitor_alarms(  # type: ignore[no-untyped-def]
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The served model's latest monitor run reaches /metrics, alarm counts by kind."""
    import httpx

    monkeypatch.setenv("RISKWARN_HOME", str(served.home))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", served.tracking_uri)
    assert main(["monitor", str(served.data), "--as-of", "2024-12-31"]) == 0
    found = latest_monitor("1", served.tracking_uri)
    assert found is not None
    db = tmp_path / "service.db"
    _, keys = fresh_store(served, db)
    service = Serving(serve_env(served, db))
    try:
        text = httpx.get(f"{service.url}/metrics", headers=keys.header("scorer")).text
    finally:
        service.stop()
    for kind, count in found.summary()["alarms"].items():
        assert f'riskwarn_monitor_alarms{{kind="{kind}"}} {float(count)}' in text, kind
