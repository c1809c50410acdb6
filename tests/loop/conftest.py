"""Fixtures of the loop tests: the CLI as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

RISKWARN = str(Path(sys.executable).with_name("riskwarn"))


@pytest.fixture(scope="session")
def cli() -> Callable[..., subprocess.CompletedProcess]:
    """Run ``riskwarn ARGS...`` through its installed entry point."""

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([RISKWARN, *args], capture_output=True, text=True, timeout=900)

    return run
