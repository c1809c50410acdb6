"""The routing policy: who owns a warning of each tier, through which channels it may be
handled, and by when each step is due. Declared in a TOML file (``policy.toml`` ships the
four-colour defaults); an admin passes the path of an edited copy.

    >>> policy = load_policy()
    >>> policy.route("red").level, policy.route("blue").level
    ('county', 'grid')
"""

from __future__ import annotations

import datetime as dt
import difflib
import tomllib
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from riskwarn.errors import ConfigError
from riskwarn.vocab import OWNER_LEVELS, TIERS, values

DEFAULT_POLICY = "policy.toml"
STEPS = ("acknowledge", "first_action", "revisit")
"""The deadlines a warning has, in the order it meets them."""

_STRICT = ConfigDict(extra="forbid", frozen=True)


def _unknown(what: str, value: object, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(value), known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"unknown {what} {value!r}; expected one of {', '.join(known)}.{hint}"


class TierRoute(BaseModel):
    """Where a tier's warnings go and how long each step may take."""

    model_config = _STRICT

    level: str = Field(description="Owning level: grid, township or county.")
    channels: tuple[str, ...] = Field(
        min_length=1, description="Channels a handler may use (intervention_channel values)."
    )
    acknowledge_hours: float = Field(gt=0, description="Acknowledge within, from the issue.")
    first_action_hours: float = Field(gt=0, description="First action within, from the issue.")
    revisit_hours: float = Field(gt=0, description="Return visit within, from the resolution.")
    unowned_within_hours: float | None = Field(
        None, gt=0, description="Escalate a warning still without an owner this long after issue."
    )

    @field_validator("level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value not in OWNER_LEVELS:
            raise ValueError(_unknown("level", value, OWNER_LEVELS))
        return value

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = values("intervention_channel")
        for channel in value:
            if channel not in known:
                raise ValueError(_unknown("channel", channel, known))
        return value

    def within(self, step: str) -> dt.timedelta:
        """How long ``step`` (acknowledge, first_action, revisit) may take."""
        if step not in STEPS:
            raise ValueError(_unknown("deadline step", step, STEPS))
        return dt.timedelta(hours=getattr(self, f"{step}_hours"))


class RoutingPolicy(BaseModel):
    """One route per tier, and the policy's version (kept on every warning it routed)."""

    model_config = _STRICT

    version: str = Field(min_length=1, description="Shown on every warning routed by it.")
    tiers: dict[str, TierRoute] = Field(description="A route for each of the four tiers.")

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: dict[str, TierRoute]) -> dict[str, TierRoute]:
        for tier in value:
            if tier not in TIERS:
                raise ValueError(_unknown("tier", tier, TIERS))
        missing = [t for t in TIERS if t not in value]
        if missing:
            raise ValueError(f"no route for tier {', '.join(missing)}; add [tiers.{missing[0]}]")
        return value

    def route(self, tier: str) -> TierRoute:
        """The route of ``tier``."""
        if tier not in self.tiers:
            raise ConfigError(_unknown("tier", tier, TIERS))
        return self.tiers[tier]


def parse_policy(data: dict, source: str = "policy") -> RoutingPolicy:
    """A policy mapping validated; a mistake is one :class:`ConfigError` line naming it."""
    try:
        return RoutingPolicy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        msg = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            msg = f"unknown key {first['loc'][-1]!r}"
        raise ConfigError(
            f"{source}: {where}: {msg}; fix the policy file and load it again"
        ) from exc


def load_policy(path: str | Path | None = None) -> RoutingPolicy:
    """The routing policy in ``path``; ``None`` gives the shipped four-colour defaults."""
    if path is None:
        text = resources.files("riskwarn.loop").joinpath(DEFAULT_POLICY).read_text("utf-8")
        return parse_policy(tomllib.loads(text), source=DEFAULT_POLICY)
    p = Path(path)
    if not p.is_file():
        raise ConfigError(
            f"expected a routing policy TOML file, got {str(p)!r} which does not exist; start "
            "from a copy of riskwarn/loop/policy.toml"
        )
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc}); fix the syntax and load it again") from exc
    return parse_policy(data, source=str(p))
