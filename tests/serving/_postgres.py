"""A throwaway PostgreSQL cluster for the store's tests: initdb and pg_ctl on a free port in
a temporary folder, stopped and removed at the end. As root (CI), the server runs as the
``postgres`` user, since initdb refuses to run as root."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

INSTALL = (
    "PostgreSQL's server programs (initdb, pg_ctl) were not found on PATH or in "
    "/usr/lib/postgresql/*/bin; install them (Debian: apt-get install -y postgresql) to "
    "run the store's PostgreSQL tests"
)


def server_bin() -> Path | None:
    """The folder holding initdb and pg_ctl (the newest Debian version first), or None."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    found = [p for p in found if (p / "pg_ctl").exists()]
    found.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    return found[-1] if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def cluster(bin_dir: Path) -> Iterator[str]:
    """A running cluster; yields a SQLAlchemy URL of its ``postgres`` database."""
    as_root = os.geteuid() == 0
    # As root the server runs as `postgres`, which must reach the folder: /tmp, not a
    # TMPDIR that only root may enter.
    root = Path(tempfile.mkdtemp(prefix="riskwarn-pg-", dir="/tmp" if as_root else None))
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(root, "postgres")
    data, log, port = root / "data", root / "server.log", _free_port()

    def run(*argv: str) -> None:
        done = subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{argv[0]} failed: {done.stderr.strip()[-2000:]}\n{tail}")

    try:
        run(
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
