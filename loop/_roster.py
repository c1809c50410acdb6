"""The people warnings can be routed to: mediators, officers and county leads, kept per
county, township and grid (the store keeps the list; this is its typed form).

    >>> roster = Roster(members=(
    ...     Member(name="王芳", role="mediator", level="grid", township="东关街道", grid="G1"),
    ...     Member(name="李强", role="officer", level="township", township="东关街道"),
    ... ))
    >>> roster.pick("township", tier="orange", township="东关街道", grid="G1")
    '李强'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from riskwarn.vocab import OWNER_LEVELS

MEMBER_ROLES = ("mediator", "officer", "lead")
"""Mediators (调解员), officers (干部/民警) and county leads (包案领导)."""

# whom each tier's warning goes to first, when several people serve the same place
_PREFERENCE = {
    "red": ("lead", "officer", "mediator"),
    "orange": ("officer", "mediator", "lead"),
    "yellow": ("mediator", "officer", "lead"),
    "blue": ("mediator", "officer", "lead"),
}


class Member(BaseModel):
    """One person who can own warnings at one level of one place."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=128, description="Name or staff id.")
    role: Literal[MEMBER_ROLES] = Field(description="What the person is.")  # type: ignore[valid-type]
    level: Literal[OWNER_LEVELS] = Field(description="Level served.")  # type: ignore[valid-type]
    county: str | None = Field(None, description="County served (None: the only one).")
    township: str | None = Field(None, description="Township served (township and grid level).")
    grid: str | None = Field(None, description="Grid id served (grid level).")

    @model_validator(mode="after")
    def _place(self) -> Member:
        if self.level in ("township", "grid") and not self.township:
            raise ValueError(f"a {self.level}-level member needs a township; {self.name} has none")
        if self.level == "grid" and not self.grid:
            raise ValueError(f"a grid-level member needs a grid id; {self.name} has none")
        return self

    def serves(self, level: str, county: str | None, township: str | None, grid: str | None):
        """Whether this member serves a case of that place at ``level``."""
        if self.level != level or (self.county and county and self.county != county):
            return False
        if level == "county":
            return True
        if self.township != township:
            return False
        return level == "township" or self.grid == grid


class Roster(BaseModel):
    """Everyone warnings can be routed to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    members: tuple[Member, ...] = ()

    def serving(
        self, county: str | None = None, township: str | None = None, grid: str | None = None
    ) -> tuple[Member, ...]:
        """Everyone who serves a case of that place at some level (its grid, its township,
        the county), lowest level first, then by name: whom a supervisor may assign it to."""
        found = [
            m
            for m in self.members
            if any(m.serves(level, county, township, grid) for level in OWNER_LEVELS)
        ]
        return tuple(sorted(found, key=lambda m: (OWNER_LEVELS.index(m.level), m.name)))

    def pick(
        self,
        level: str,
        *,
        tier: str,
        county: str | None = None,
        township: str | None = None,
        grid: str | None = None,
        load: Mapping[str, int] | None = None,
    ) -> str | None:
        """The owner of a ``tier`` warning at ``level`` for a case of that place: the role
        the tier asks for first, then the one with fewest open warnings (``load``), then by
        name; ``None`` when nobody serves it (the warning stays unowned)."""
        if level not in OWNER_LEVELS:
            raise ValueError(f"expected a level, one of {OWNER_LEVELS}, got {level!r}")
        order = _PREFERENCE.get(tier, MEMBER_ROLES)
        load = load or {}
        found = [m for m in self.members if m.serves(level, county, township, grid)]
        if not found:
            return None
        best = min(found, key=lambda m: (order.index(m.role), load.get(m.name, 0), m.name))
        return best.name
