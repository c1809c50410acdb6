"""Where riskwarn keeps its state, on embedded defaults unless the environment says otherwise.

- ``RISKWARN_HOME`` (default ``./.riskwarn``): the project's state folder.
- ``MLFLOW_TRACKING_URI``: a tracking server; default a SQLite file in the home folder,
  with artifacts in ``<home>/mlartifacts``.
- ``RISKWARN_DB_URL``: the service's store (history, keys, audit, actions); default a SQLite
  file in the home folder, or a ``postgresql://`` URL.
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """The state folder, created when missing."""
    path = Path(os.environ.get("RISKWARN_HOME", ".riskwarn")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def tracking_uri(explicit: str | None = None) -> str:
    """The MLflow tracking URI: ``explicit``, else ``MLFLOW_TRACKING_URI``, else embedded SQLite."""
    return explicit or os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{home() / 'mlflow.db'}"


def artifact_root() -> Path:
    """Local artifact folder used with the embedded tracking store."""
    path = home() / "mlartifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_url(explicit: str | None = None) -> str:
    """The service store URL: ``explicit``, else ``RISKWARN_DB_URL``, else embedded SQLite."""
    return explicit or os.environ.get("RISKWARN_DB_URL") or f"sqlite:///{home() / 'service.db'}"
