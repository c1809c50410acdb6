"""The ``riskwarn`` command line: one entry, a command per job.

Each stage declares its commands in its own ``_cli.py`` as a ``typer.Typer`` named
``commands``; this module merges them into one app. Errors print one clear line and exit
non-zero; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import sys

import typer

from riskwarn import _core_cli
from riskwarn.errors import RiskwarnError

# Which stage declares each command, so that a command imports only its own stage
# (the serving stage pulls in BentoML, seconds to import); help loads them all.
STAGE_OF_COMMAND = {
    "features": "riskwarn.features._cli",
    "train": "riskwarn.training._cli",
    "train-table": "riskwarn.training._cli",
    "promote": "riskwarn.training._cli",
    "score": "riskwarn.training._cli",
    "experiment": "riskwarn.training._cli",
    "recalibrate": "riskwarn.training._cli",
    "monitor": "riskwarn.serving._monitor_cli",
    "serve": "riskwarn.serving._cli",
    "keys": "riskwarn.serving._cli",
    "history": "riskwarn.serving._cli",
    "warnings": "riskwarn.serving._cli",
    "roster": "riskwarn.serving._cli",
    "evaluate-warnings": "riskwarn.loop._cli",
    "records": "riskwarn.serving._cli",
}

app = typer.Typer(
    name="riskwarn",
    help="Early warning of dispute escalation: validate, simulate, features, train, score, serve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_STATE = {"debug": False}


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
) -> None:
    _STATE["debug"] = debug


def _merge(sub: typer.Typer) -> None:
    app.registered_commands.extend(sub.registered_commands)
    app.registered_groups.extend(sub.registered_groups)


_merge(_core_cli.commands)


_LOADED: set[str] = set()


def _load_stages(args: list[str]) -> None:
    """Merge the commands of the stage the command line names; all of them for help."""
    words = [a for a in args if not a.startswith("-")]
    core = {c.name or c.callback.__name__ for c in _core_cli.commands.registered_commands}
    if words and words[0] in core:
        return
    stage = STAGE_OF_COMMAND.get(words[0]) if words else None
    for module in [stage] if stage else sorted(set(STAGE_OF_COMMAND.values())):
        if module not in _LOADED:
            _merge(importlib.import_module(module).commands)
            _LOADED.add(module)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status (used by the console script and tests)."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    if debug:  # accepted anywhere on the line, not only before the command
        args = ["--debug", *(a for a in args if a != "--debug")]
    try:
        _load_stages(args)
        status = app(args=args, standalone_mode=False)
    except SystemExit as exc:  # typer/click exits for --help and usage errors
        return int(exc.code or 0)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        print("riskwarn: aborted", file=sys.stderr)
        return 130
    except Exception as exc:
        if isinstance(exc, typer.TyperException) and hasattr(exc, "show"):
            exc.show()  # usage errors: click's own message naming the option, exit 2
            return int(getattr(exc, "exit_code", 2))
        if debug:
            raise
        kind = "error" if isinstance(exc, RiskwarnError) else f"unexpected {type(exc).__name__}"
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"riskwarn: {kind}: {message} (run with --debug for the traceback)", file=sys.stderr)
        return 1
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
