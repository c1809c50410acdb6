"""Each package's public names are exactly its sorted ``__all__`` (as httpx checks)."""

from __future__ import annotations

import importlib
import types

import pytest

PACKAGES = ["riskwarn", "riskwarn.features", "riskwarn.training", "riskwarn.loop"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_complete(name: str) -> None:
    package = importlib.import_module(name)
    exported = package.__all__
    assert exported == sorted(exported), f"{name}.__all__ is not sorted"
    assert len(set(exported)) == len(exported)
    for attr in exported:
        assert hasattr(package, attr), f"{name}.__all__ names missing {attr}"
    public = {
        attr
        for attr, value in vars(package).items()
        if not attr.startswith("_") and not isinstance(value, types.ModuleType)
    }
    public -= {"annotations"}
    assert public <= set(exported) | {"__version__"}, f"not in __all__: {public - set(exported)}"
