"""Where riskwarn keeps its state and how the service runs: one typed settings object.

Everything comes from the environment (embedded defaults otherwise), read by
:meth:`Settings.from_env`. The service reads it once when a worker starts and passes the
object on; nothing else in the service looks at ``os.environ``. The variables:

======================== ==============================================================
``RISKWARN_HOME``         the state folder (default ``./.riskwarn``)
``MLFLOW_TRACKING_URI``   a tracking server; default a SQLite file in the home folder
``RISKWARN_DB_URL``       the service's store; default ``service.db`` in the home folder,
                          or a ``postgresql://`` URL
``RISKWARN_MODEL_URI``    the model the service serves (default ``models:/riskwarn@champion``)
``RISKWARN_WORKERS``      worker processes of ``riskwarn serve`` (default 1)
``RISKWARN_STORE_WAIT``   seconds a request waits for a busy store before 503 (default 3)
``RISKWARN_MAX_BODY``     largest request body in bytes (default 64 MiB)
``RISKWARN_MAX_DEPTH``    deepest JSON nesting a request may have (default 32)
``RISKWARN_STALE_DAYS``   an answer warns when ``as_of`` is this many days past the newest
                          record the store holds (default 30)
``RISKWARN_SESSION_SECRET`` the workbench's cookie secret (else a file in the home folder)
``RISKWARN_SECURE_COOKIES`` ``1`` when TLS ends at a proxy in front: cookies only over https
``RISKWARN_ROUTING``      the warnings' routing policy, a TOML file (default the shipped
                          four-colour one, ``riskwarn/loop/policy.toml``); a policy an
                          admin stores with ``PUT /v1/warnings/policy`` comes first
``RISKWARN_WARN_TIER``    the lowest tier a snapshot issues a warning for (default orange)
======================== ==============================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from riskwarn.errors import ConfigError

DEFAULT_MODEL_URI = "models:/riskwarn@champion"


class Settings(BaseModel):
    """The service's runtime settings, checked once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    home: Path = Field(description="The state folder.")
    tracking_uri: str = Field(description="The MLflow tracking URI.")
    store_url: str = Field(description="The service store's URL.")
    model_uri: str = Field(DEFAULT_MODEL_URI, min_length=1, description="The model served.")
    workers: int = Field(1, ge=1, le=64, description="Worker processes.")
    threads: int = Field(
        1,
        ge=1,
        le=64,
        description="Threads a worker scores in at once (BentoML's `threads`). Scoring is "
        "Python-bound: a second thread mostly waits for the GIL, and taking turns costs "
        "throughput (the README's figures); add workers for more cores.",
    )
    store_wait: float = Field(
        3.0, gt=0, le=60, description="Seconds a request waits for a busy store."
    )
    max_body: int = Field(64 * 1024 * 1024, ge=1024, description="Largest body, bytes.")
    max_depth: int = Field(32, ge=4, le=1000, description="Deepest JSON nesting of a body.")
    stale_days: int = Field(30, ge=1, description="Days past the newest record that warn.")
    request_timeout: float = Field(
        60.0,
        ge=5,
        le=3600,
        description="Seconds a request may take before a 504 (BentoML's traffic timeout).",
    )
    trace_requests: bool = Field(
        False,
        description="An OpenTelemetry span per request, for a tracing exporter configured "
        "through BentoML (its `tracing` config). Off, no span is made: BentoML records every "
        "span even when nothing exports it, and its timeout keeps each one alive (about 5 KB "
        "a request) until the request timeout passes.",
    )
    session_secret: SecretStr | None = Field(None, description="The workbench cookie secret.")
    secure_cookies: bool = Field(False, description="Cookies only over https.")
    routing: Path | None = Field(
        None, description="The warnings' routing policy TOML; the shipped defaults if empty."
    )
    warn_tier: Literal["red", "orange", "yellow", "blue"] = Field(
        "orange", description="The lowest tier a snapshot issues a warning for."
    )
    watch_parent: bool = Field(
        False, description="A worker exits when its master dies (set by `riskwarn serve`)."
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings the environment gives (``os.environ`` by default)."""
        env = os.environ if environ is None else environ
        root = Path(env.get("RISKWARN_HOME") or ".riskwarn").resolve()
        values: dict[str, Any] = {
            "home": root,
            "tracking_uri": env.get("MLFLOW_TRACKING_URI") or f"sqlite:///{root / 'mlflow.db'}",
            "store_url": env.get("RISKWARN_DB_URL") or f"sqlite:///{root / 'service.db'}",
        }
        for field, name in _VARIABLES.items():
            if env.get(name):
                values[field] = env[name]
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = str(err["loc"][0]) if err["loc"] else ""
            name = _VARIABLES.get(field, field)
            raise ConfigError(
                f"{name}: expected {err['msg'].lower()}, got {values.get(field)!r}; fix or "
                "unset the variable"
            ) from exc

    def environ(self) -> dict[str, str]:
        """These settings as the environment variables that give them (for worker processes)."""
        out = {
            "RISKWARN_HOME": str(self.home),
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            "RISKWARN_DB_URL": self.store_url,
        }
        for field, name in _VARIABLES.items():
            value = getattr(self, field)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            out[name] = str(int(value) if isinstance(value, bool) else value)
        return out


_VARIABLES = {
    "model_uri": "RISKWARN_MODEL_URI",
    "workers": "RISKWARN_WORKERS",
    "threads": "RISKWARN_THREADS",
    "store_wait": "RISKWARN_STORE_WAIT",
    "max_body": "RISKWARN_MAX_BODY",
    "max_depth": "RISKWARN_MAX_DEPTH",
    "stale_days": "RISKWARN_STALE_DAYS",
    "request_timeout": "RISKWARN_REQUEST_TIMEOUT",
    "trace_requests": "RISKWARN_TRACE_REQUESTS",
    "session_secret": "RISKWARN_SESSION_SECRET",
    "secure_cookies": "RISKWARN_SECURE_COOKIES",
    "watch_parent": "RISKWARN_WATCH_PARENT",
    "routing": "RISKWARN_ROUTING",
    "warn_tier": "RISKWARN_WARN_TIER",
}


def home() -> Path:
    """The state folder, created when missing."""
    path = Settings.from_env().home
    path.mkdir(parents=True, exist_ok=True)
    return path


def tracking_uri(explicit: str | None = None) -> str:
    """The MLflow tracking URI: ``explicit``, else ``MLFLOW_TRACKING_URI``, else embedded SQLite."""
    if explicit:
        return explicit
    home()
    return Settings.from_env().tracking_uri


def artifact_root() -> Path:
    """Local artifact folder used with the embedded tracking store."""
    path = home() / "mlartifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_url(explicit: str | None = None) -> str:
    """The service store URL: ``explicit``, else ``RISKWARN_DB_URL``, else embedded SQLite."""
    if explicit:
        return explicit
    home()
    return Settings.from_env().store_url
