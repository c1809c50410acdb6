"""Commands of the serving stage: ``serve``, ``keys`` (create, list, revoke), ``history`` (load,
snapshot), ``records`` (correct, expire, history, lineage). The lead merges ``commands``
into ``riskwarn``.

Every write these commands make is audited in the store under the name ``cli``.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import uuid
from pathlib import Path

import pandas as pd
import typer

from riskwarn import config
from riskwarn.config import DEFAULT_MODEL_URI, Settings
from riskwarn.errors import ConfigError

commands = typer.Typer(no_args_is_help=True)
keys = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
history = typer.Typer(help="The service's history store: load a dataset, take snapshots.")
warnings_cli = typer.Typer(
    help="Warnings (the closed loop): escalate the overdue, show them, set the routing policy.",
    no_args_is_help=True,
)
roster_cli = typer.Typer(help="The people warnings are routed to.", no_args_is_help=True)
commands.add_typer(keys, name="keys")
records = typer.Typer(
    help="People's data rights on the store: correct or expire records, and see the scores "
    "a record influenced (docs/rights.md).",
    no_args_is_help=True,
)
commands.add_typer(history, name="history")
commands.add_typer(records, name="records")
commands.add_typer(warnings_cli, name="warnings")
commands.add_typer(roster_cli, name="roster")

_DB = typer.Option(None, "--db", help="Store URL; default RISKWARN_DB_URL or the home folder.")
_MODEL = typer.Option(DEFAULT_MODEL_URI, "--model", help="Registered model URI to serve.")
CLI = "cli"  # the audit log's name for what these commands write


def _request_id() -> str:
    return f"cli-{uuid.uuid4().hex[:12]}"


def _store(db: str | None):  # type: ignore[no-untyped-def]
    """The store at ``db``: made when there is none yet, upgraded in place when older."""
    from riskwarn.serving._store import Store

    return Store(config.store_url(db)).create()


def load_history(db: str | None, data: Path, replace: bool = False) -> dict[str, int]:
    """Load the contract dataset at ``data`` into the store; refuse to mix with old history."""
    from riskwarn import load_dataset

    store = _store(db)
    held = sum(store.history_counts().values())
    if held and not replace:
        raise ConfigError(
            f"expected an empty history store, got one holding {held} rows ({store.url}); "
            "pass --replace to load this dataset instead, or add records with POST /v1/ingest"
        )
    dataset = load_dataset(data)
    return store.replace_history(dataset.tables(), by=CLI, request_id=_request_id())


@history.command("load")
def history_load(
    data: Path = typer.Argument(..., help="Contract dataset directory."),
    db: str | None = _DB,
    replace: bool = typer.Option(False, "--replace", help="Drop the history held now first."),
) -> None:
    """Fill the store's history from a contract dataset directory."""
    counts = load_history(db, data, replace)
    typer.echo(", ".join(f"{n} {t}" for t, n in counts.items()))


@history.command("snapshot")
def history_snapshot(
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        help="YYYY-MM-DD (the end of that day) or YYYY-MM-DDTHH:MM:SS; default now.",
    ),
    model: str = _MODEL,
    db: str | None = _DB,
) -> None:
    """Score every dispute open at AS_OF and store the scores (the queue reads them)."""
    from riskwarn.clock import get_clock
    from riskwarn.serving._schemas import parse_as_of
    from riskwarn.serving._scorer import Scorer
    from riskwarn.serving._service import take_snapshot
    from riskwarn.training import load_model

    store = _store(db)
    when = parse_as_of(as_of) if as_of else get_clock().local_now()
    scorer = Scorer(load_model(model, tracking_uri=config.tracking_uri()), store.read_dataset())
    from riskwarn.serving._warnings import event_counts

    taken = take_snapshot(scorer, store, when, by=CLI, request_id=_request_id())
    counts = event_counts(taken.events)
    shown = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "none"
    typer.echo(
        f"stored {taken.stored} scores as of {taken.as_of:%Y-%m-%dT%H:%M:%S}; warning events: "
        f"{shown}"
    )


def _model_or_none(model: str, recompute: bool):  # type: ignore[no-untyped-def]
    from riskwarn.training import load_model

    return load_model(model, tracking_uri=config.tracking_uri()) if recompute else None


_RECOMPUTE = typer.Option(
    True,
    "--recompute/--no-recompute",
    help="Score again, today, the open disputes whose current score the record influenced "
    "(needs the model); --no-recompute only lists them.",
)


def _echo_recomputed(recomputed, before: dict) -> None:  # type: ignore[no-untyped-def]
    if recomputed is None:
        typer.echo("not recomputed (--no-recompute)")
        return
    changes = recomputed.changes(before)
    typer.echo(f"recomputed {len(changes)} current scores in {recomputed.seconds:.2f} s")
    for c in changes:
        was = "-" if c["risk_before"] is None else f"{c['risk_before']:.4f} {c['tier_before']}"
        typer.echo(f"  {c['dispute_id']}\t{was} -> {c['risk']:.4f} {c['tier']}")


@records.command("correct")
def records_correct(
    table: str = typer.Argument(..., help="Contract table, e.g. persons or person_flags."),
    key: str = typer.Option(
        ...,
        "--id",
        help="The record's id, or its natural key joined by | (person_flags: "
        "person_id|flag|start_date); `riskwarn records lineage` and the person report show it.",
    ),
    set_: list[str] = typer.Option(
        ..., "--set", help="COLUMN=VALUE as a CSV cell would hold it (repeatable)."
    ),
    reason: str = typer.Option(..., "--reason", help="Why; kept with the superseded record."),
    db: str | None = _DB,
    model: str = _MODEL,
    recompute: bool = _RECOMPUTE,
) -> None:
    """Supersede one record: the corrected row replaces it, the old one is kept with who,
    when and why; then list and recompute the scores it influenced."""
    from riskwarn.clock import get_clock
    from riskwarn.serving._lineage import correct_and_recompute
    from riskwarn.serving._rights import parse_assignments

    changes = parse_assignments(set_)
    store = _store(db)
    chosen = _model_or_none(model, recompute)
    before = {s["dispute_id"]: s for s in store.latest_snapshots()}
    done = correct_and_recompute(
        store,
        table,
        key,
        changes,
        reason=reason,
        by=CLI,
        request_id=_request_id(),
        model=chosen,
        now=pd.Timestamp(get_clock().local_now()),
    )
    c = done.correction
    after = f", superseding correction #{c['supersedes']}" if c["supersedes"] else ""
    typer.echo(
        f"correction #{c['version']} of {table} {key!r} -> {c['new_key']!r} "
        f"({', '.join(c['columns'])}){after}"
    )
    found = done.lineage
    typer.echo(
        f"influenced: {len(found.own)} own disputes, {len(found.nearby)} within two links, "
        f"{len(found.scores)} stored scores"
    )
    _echo_recomputed(done.recomputed, before)


@records.command("expire")
def records_expire(
    apply: bool = typer.Option(
        False, "--apply", help="Delete the expired records; without it, only report them."
    ),
    retention: str = typer.Option(
        "default",
        "--retention",
        help="'default' (riskwarn/retention.toml) or a retention policy TOML file.",
    ),
    at: str | None = typer.Option(
        None, "--at", help="Expire as of this day (YYYY-MM-DD, its end); default now."
    ),
    db: str | None = _DB,
    model: str = _MODEL,
    recompute: bool = _RECOMPUTE,
) -> None:
    """Apply the retention policy to the store: list the records expired by now (a dry run
    that writes nothing), or with --apply delete them (a tombstone each, one audit row),
    then recompute the current scores they influenced. Running it again changes nothing."""
    from riskwarn import expiry
    from riskwarn._retention import retention_option
    from riskwarn.clock import get_clock, parse_date
    from riskwarn.serving._lineage import EXPIRY_REASON, influenced_by
    from riskwarn.serving._lineage import recompute as again
    from riskwarn.serving._scorer import Scorer

    policy = retention_option(retention)
    assert policy is not None
    when = parse_date(at, "--at") if at else pd.Timestamp(get_clock().local_now())
    store = _store(db)
    dataset = store.read_dataset()
    expired = expiry(dataset, policy).rows(when)
    label = retention if retention != "default" else "default"
    counts = store.expire(
        expired,
        policy=f"{label} ({policy.digest()})",
        apply=apply,
        by=CLI,
        request_id=_request_id(),
    )
    shown = ", ".join(f"{n} {t}" for t, n in counts.items()) or "nothing"
    if not apply:
        typer.echo(
            f"dry run: expired by {when:%Y-%m-%d %H:%M:%S}: {shown}; nothing written "
            "(pass --apply to delete them)"
        )
        return
    typer.echo(f"expired and deleted: {shown}")
    if not counts:
        return
    own, near = influenced_by(dataset, expired)
    chosen = _model_or_none(model, recompute)
    typer.echo(f"influenced: {len(own)} own disputes, {len(near)} within two links")
    if chosen is None:
        _echo_recomputed(None, {})
        return
    before = {s["dispute_id"]: s for s in store.latest_snapshots()}
    done = again(
        store,
        Scorer(chosen, store.read_dataset()),
        own | near,
        now=pd.Timestamp(get_clock().local_now()),
        reason=EXPIRY_REASON,
        by=CLI,
        request_id=_request_id(),
    )
    _echo_recomputed(done, before)


@records.command("history")
def records_history(
    table: str | None = typer.Argument(None, help="Contract table; default all."),
    key: str | None = typer.Option(None, "--id", help="One record's chain of corrections."),
    db: str | None = _DB,
) -> None:
    """Corrections and expiries, oldest first: number, when, who, table, key, what it
    became, the correction it supersedes, why."""
    for v in _store(db).record_versions(table, key):
        after = f" -> {v['new_key']}" if v["new_key"] else ""
        chain = f" (supersedes #{v['supersedes']})" if v["supersedes"] else ""
        typer.echo(
            f"#{v['id']}\t{v['at']:%Y-%m-%d %H:%M:%S}\t{v['key_name']}\t{v['kind']}\t"
            f"{v['table_name']} {v['record_key']}{after}{chain}\t{v['reason']}"
        )


@records.command("lineage")
def records_lineage(
    table: str = typer.Argument(..., help="Contract table."),
    key: str = typer.Option(..., "--id", help="The record's key."),
    db: str | None = _DB,
) -> None:
    """The scores a record influenced: its own disputes' and those within two links'."""
    from riskwarn.errors import UnknownRecordError
    from riskwarn.serving._lineage import lineage

    store = _store(db)
    rows = store.find_records(table, key)
    if not rows:
        raise UnknownRecordError(f"{table}: expected a record with key {key!r}, found none")
    found = lineage(store, store.read_dataset(), table, key, rows)
    typer.echo(f"own disputes: {', '.join(sorted(found.own)) or '-'}")
    typer.echo(f"within two links: {', '.join(sorted(found.nearby)) or '-'}")
    for s in found.scores:
        mark = "own" if s["dispute_id"] in found.own else "near"
        typer.echo(
            f"{s['dispute_id']}\t{s['as_of']:%Y-%m-%dT%H:%M:%S}\t{s['risk']:.4f}\t{s['tier']}"
            f"\t{s['model_version']}\t{mark}"
        )


@keys.command("create")
def keys_create(
    role: str = typer.Option(..., "--role", help="scorer, supervisor or admin."),
    name: str | None = typer.Option(None, "--name", help="A name for the audit log."),
    db: str | None = _DB,
) -> None:
    """Make a key; prints its name, then the key itself as the last line (shown once)."""
    from riskwarn.serving._keys import create_key

    key_name, key = create_key(_store(db), role, name, by=CLI, request_id=_request_id())
    typer.echo(f"created {role} key {key_name!r}; store it now, it is not shown again:")
    typer.echo(key)


@keys.command("list")
def keys_list(db: str | None = _DB) -> None:
    """Keys by name, role and state (never the keys themselves)."""
    for row in _store(db).list_keys():
        state = f"revoked {row['revoked_at']:%Y-%m-%d}" if row["revoked_at"] else "live"
        typer.echo(f"{row['name']}\t{row['role']}\t{row['created_at']:%Y-%m-%d}\t{state}")


@keys.command("revoke")
def keys_revoke(name: str = typer.Argument(..., help="Key name."), db: str | None = _DB) -> None:
    """Revoke a key at once; requests with it get 401 from then on."""
    if not _store(db).revoke_key(name, by=CLI, request_id=_request_id()):
        raise ConfigError(
            f"expected the name of a live key, got {name!r}; see `riskwarn keys list`"
        )
    typer.echo(f"revoked {name}")


# warnings and the roster (issue 14) ------------------------------------------------------


@warnings_cli.command("escalate")
def warnings_escalate(db: str | None = _DB) -> None:
    """Escalate every open warning overdue now, or unowned too long, one level up (for a
    cron job; each snapshot does it too). Prints how many."""
    from riskwarn.serving._warnings import policy_in_force

    store = _store(db)
    events = store.escalate_warnings(policy_in_force(store), by=CLI, request_id=_request_id())
    for e in events:
        typer.echo(f"{e.warning_id}\t{e.owner_level}\t{e.owner or '(unowned)'}\t{e.note}")
    typer.echo(f"escalated {len(events)} warnings")


@warnings_cli.command("policy")
def warnings_policy(
    path: Path = typer.Argument(
        ..., help="A routing policy TOML (start from a copy of riskwarn/loop/policy.toml)."
    ),
    db: str | None = _DB,
) -> None:
    """Store a new routing policy version (as PUT /v1/warnings/policy); warnings are routed
    by it from now on. A wrong policy is refused with one line naming the mistake."""
    from riskwarn.loop import load_policy

    policy = load_policy(path)
    _store(db).add_routing_policy(policy, by=CLI, request_id=_request_id())
    typer.echo(f"routing policy {policy.version!r} in force")


@warnings_cli.command("summary")
def warnings_summary(
    tier: list[str] = typer.Option(
        ["red", "orange"], "--tier", help="Tiers to list (repeat the option)."
    ),
    db: str | None = _DB,
) -> None:
    """Open warnings of the tiers asked, each with its owner and deadline, and how many
    are overdue and unowned."""
    from riskwarn.clock import get_clock

    store = _store(db)
    now = get_clock().utc_now()
    for t in tier:
        total, page = store.warnings_page(tier=t, state="open", limit=1000)
        late = sum(w.overdue(now) for w in page)
        unowned = sum(w.owner is None for w in page)
        typer.echo(f"{t}: {total} open warnings, {late} overdue, {unowned} without an owner")
        for w in page[:5]:
            due = f"{w.due_step} due {w.due_at:%Y-%m-%d %H:%M} UTC" if w.due_at else "nothing due"
            typer.echo(
                f"  {w.warning_id}  {w.dispute_id}  {w.owner_level}: "
                f"{w.owner or '(unowned)'}  {w.state}, {due}"
            )
        if total > 5:
            typer.echo(f"  ... and {total - 5} more (GET /v1/warnings?tier={t})")


@roster_cli.command("load")
def roster_load(
    path: Path = typer.Argument(..., help="CSV: name,role,level,county,township,grid."),
    db: str | None = _DB,
) -> None:
    """Replace the roster (mediators, officers and county leads per township and grid)
    that warnings are routed to."""
    from riskwarn.serving._warnings import read_roster

    members = read_roster(path)
    n = _store(db).replace_roster(members, by=CLI, request_id=_request_id())
    typer.echo(f"roster: {n} members")


def check_port(host: str, port: int) -> None:
    """ConfigError in one line when ``host:port`` cannot be listened on (in use, or not an
    address of this machine)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"port {port} on {host} is in use (another `riskwarn serve`? `ss -ltnp "
                    f"'sport = :{port}'` shows the process); stop it or pass --port"
                ) from exc
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror}); pass another --host or --port"
            ) from exc


def check_store(settings: Settings) -> None:
    """What ``serve`` refuses before any worker starts, each in one line: no store, a store
    that is not riskwarn's (:meth:`Store.open`), and a store that holds no disputes or no
    live key (a deleted or emptied store would otherwise come up 'ready' and refuse every
    call). Upgrades the store's schema in place, once, before the workers open it."""
    from riskwarn.serving._store import Store

    store = Store.open(settings.store_url, wait=settings.store_wait)
    try:
        if not store.history_counts()["disputes"]:
            raise ConfigError(
                f"the store {settings.store_url} holds no disputes, so there is nothing to "
                "score; load a dataset (`riskwarn history load DIR`, or serve with --data "
                "DIR), or point --db at the service's store"
            )
        if not any(row["revoked_at"] is None for row in store.list_keys()):
            raise ConfigError(
                f"the store {settings.store_url} holds no live API key, so every call would "
                "be refused; make one with `riskwarn keys create --role scorer`"
            )
    finally:
        store.close()


def check_serve(settings: Settings, data: Path | None) -> None:
    """What ``serve`` checks before it starts: the model exists and matches this code's
    feature registry; DATA, when given, is loaded; the store is there and serviceable."""
    from riskwarn.training import check_registry, load_model

    check_registry(load_model(settings.model_uri, tracking_uri=settings.tracking_uri))
    if data is not None:
        load_history(settings.store_url, data, replace=True)
    check_store(settings)


KEEP_ALIVE_SECONDS = 75
# glibc gives each thread that allocates its own malloc arena (up to 8 per core); a worker's
# request threads then hold memory in many half-used arenas and its size creeps up for
# minutes. Two arenas keep it flat (measured: benchmarks/fault_bench.py soak); a value set
# in the environment wins.
GLIBC_MALLOC = {"MALLOC_ARENA_MAX": "2"}


@commands.command("serve")
def serve(
    model: str = _MODEL,
    port: int = typer.Option(3000, "--port", help="HTTP port."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    data: Path | None = typer.Option(
        None, "--data", help="Load this contract dataset into the store first (replacing it)."
    ),
    db: str | None = _DB,
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        help="Worker processes. With more than one, scoring, explanations and snapshots "
        "work, but ingest and reload are refused: each worker holds its own copy of the "
        "history.",
    ),
    threads: int = typer.Option(
        1,
        "--threads",
        min=1,
        max=64,
        envvar="RISKWARN_THREADS",
        help="Threads each worker scores in at once. Scoring holds Python's GIL, so more "
        "threads mostly take turns; add workers for more cores.",
    ),
) -> None:
    """Serve risk scores, tiers and reasons over HTTP (BentoML) until stopped."""
    config.home()
    base = Settings.from_env()
    settings = base.model_copy(
        update={
            "model_uri": model,
            "store_url": config.store_url(db),
            "workers": workers,
            "threads": threads,
            "watch_parent": True,
        }
    )
    check_port(host, port)
    check_serve(settings, data)
    env = {**GLIBC_MALLOC, **os.environ, **settings.environ(), "BENTOML_DO_NOT_TRACK": "True"}
    typer.echo(f"riskwarn: serving {model} on http://{host}:{port}", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    argv = [
        sys.executable,
        "-m",
        "bentoml",
        "serve",
        "riskwarn.serving._service:RiskService",
        "--host",
        host,
        "--port",
        str(port),
        # idle connections outlive the clients' own keep-alive (httpx: 5 s, proxies 60 s),
        # so a client never reuses a connection at the moment the server closes it
        "--timeout-keep-alive",
        str(KEEP_ALIVE_SECONDS),
    ]
    os.execve(sys.executable, argv, env)
