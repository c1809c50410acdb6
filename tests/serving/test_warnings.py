"""The closed loop through the API: a snapshot issues warnings routed to the roster, a
supervisor and the case platform walk one through every state, refused steps change
nothing, overdue warnings escalate on a controlled clock, lists filter and page, and each
role may do only its part."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import sqlalchemy as sa

from riskwarn.clock import FixedClock, get_clock, use_clock
from riskwarn.loop import Member, load_policy

from .conftest import App, Served

ORDER = ("red", "orange", "yellow", "blue")
# every open case is warned here (the default is orange and above), so each test has
# warnings of its own to walk, and every tier's routing is seen
APP_ENV = {"RISKWARN_WARN_TIER": "blue"}


def _roster(served: Served) -> list[Member]:
    """A county lead and officer, an officer and a mediator per township, and a mediator
    per grid: everyone a warning of any tier can be routed to."""
    grids = served.dataset.grids
    members = [
        Member(name="lead-1", role="lead", level="county"),
        Member(name="officer-c", role="officer", level="county"),
    ]
    for i, township in enumerate(sorted(set(grids["township"].dropna()))):
        members += [
            Member(name=f"officer-t{i}", role="officer", level="township", township=township),
            Member(name=f"mediator-t{i}", role="mediator", level="township", township=township),
        ]
    for grid, township in zip(grids["grid_id"], grids["township"], strict=True):
        members.append(
            Member(name=f"m-{grid}", role="mediator", level="grid", township=township, grid=grid)
        )
    return members


@pytest.fixture(scope="module")
def issued(app: App, served: Served) -> dict:
    """The county's roster loaded, then a snapshot at the end of the data."""
    app.store.replace_roster(_roster(served), by="ops")
    r = app.client.post(
        "/v1/snapshot",
        json={"as_of": served.dataset.end.strftime("%Y-%m-%d")},
        headers=app.keys.header("admin"),
    )
    assert r.status_code == 200, r.text
    return r.json()


def _get(app: App, path: str, role: str = "scorer", **params: object):  # type: ignore[no-untyped-def]
    r = app.client.get(path, params=params, headers=app.keys.header(role))
    assert r.status_code == 200, r.text
    return r.json()


def _event(app: App, wid: str, role: str = "supervisor", **body: object):  # type: ignore[no-untyped-def]
    return app.client.post(f"/v1/warnings/{wid}/events", json=body, headers=app.keys.header(role))


def _act(app: App, wid: str, role: str = "scorer", **body: object):  # type: ignore[no-untyped-def]
    return app.client.post(f"/v1/warnings/{wid}/actions", json=body, headers=app.keys.header(role))


def _fresh(app: App) -> str:
    """A warning nobody has touched yet."""
    return _get(app, "/v1/warnings", state="issued", limit=1)["items"][0]["warning_id"]


def _written(app: App) -> tuple[int, int, int]:
    with app.store.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
            for t in ("warnings", "warning_events", "audit_log")
        )


def test_a_snapshot_issues_routed_warnings_with_owners_and_deadlines(
    app: App, issued: dict
) -> None:
    assert issued["warnings"].get("issue", 0) > 0, issued
    listed = _get(app, "/v1/warnings", limit=1000)
    assert listed["total"] == issued["warnings"]["issue"] == len(listed["items"])
    policy = load_policy()
    for w in listed["items"]:
        assert w["state"] == "issued"
        assert w["owner"] and w["owner_level"] == policy.route(w["tier"]).level
        assert w["due_step"] == "acknowledge" and w["due_at"].endswith("Z")
        assert w["overdue"] is False and w["routing_version"] == policy.version
    ranks = [ORDER.index(w["tier"]) for w in listed["items"]]
    assert ranks == sorted(ranks)
    # the snapshot and its issues are audited under the admin's key
    audit = [e for e in app.store.audit_entries(limit=10_000) if e["action"] == "warning:issue"]
    assert len(audit) == listed["total"] and {e["key_name"] for e in audit} == {"ops"}


def test_a_second_snapshot_never_issues_twice_nor_rescores_what_did_not_change(
    app: App, issued: dict, served: Served
) -> None:
    """The same scores again: no new warning, and no re-score on any timeline (a re-score
    is recorded only when the tier, a key fact or the risk changed materially)."""
    before = _get(app, "/v1/warnings", limit=1000)["total"]
    r = app.client.post(
        "/v1/snapshot",
        json={"as_of": served.dataset.end.strftime("%Y-%m-%d")},
        headers=app.keys.header("admin"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["warnings"].get("issue", 0) == 0
    assert r.json()["warnings"].get("rescore", 0) == 0
    assert _get(app, "/v1/warnings", limit=1000)["total"] == before


def _ok(r) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == 200, r.text
    return r.json()["warning"]


def test_one_warning_through_every_state(app: App, issued: dict) -> None:
    wid = _fresh(app)
    w = _ok(_event(app, wid, kind="acknowledge"))
    assert (w["state"], w["due_step"]) == ("acknowledged", "first_action")
    w = _ok(_event(app, wid, kind="assign", owner="mediator-x", owner_level="township"))
    assert (w["state"], w["owner"], w["owner_level"]) == ("assigned", "mediator-x", "township")
    # the case platform reports what was done, with the scorer key
    # an action time sent in UTC, to the second, after the issue and not in the future
    done = dt.datetime.fromisoformat(w["issued_at"].rstrip("Z")) + dt.timedelta(seconds=1)
    time.sleep(max(0.0, (done - get_clock().utc_now()).total_seconds()))
    at = done.strftime("%Y-%m-%dT%H:%M:%SZ")
    w = _ok(_act(app, wid, kind="visit", at=at, note="家访，双方情绪平稳"))
    assert (w["state"], w["actions"], w["due_step"]) == ("in_hand", 1, None)
    w = _ok(_act(app, wid, kind="referral", channel="people_mediation", result="agreement"))
    assert w["actions"] == 2
    w = _ok(_event(app, wid, kind="resolve"))
    assert (w["state"], w["due_step"]) == ("resolved", "revisit")
    with use_clock(FixedClock(get_clock().utc_now() + dt.timedelta(days=3))):
        assert _ok(_event(app, wid, kind="revisit"))["revisit_at"]
        w = _ok(_event(app, wid, kind="close"))
        assert w["state"] == "closed" and w["closed_at"] and w["due_step"] is None
        w = _ok(_event(app, wid, kind="reopen", note="双方再次冲突"))
    assert (w["state"], w["reopened"], w["due_step"]) == ("assigned", 1, "first_action")
    detail = _get(app, f"/v1/warnings/{wid}")
    kinds = [e["kind"] for e in detail["events"]]
    assert kinds[0] == "issue" and [k for k in kinds[1:] if k != "rescore"] == [
        "acknowledge",
        "assign",
        "act",
        "act",
        "resolve",
        "revisit",
        "close",
        "reopen",
    ]
    acts = [e for e in detail["events"] if e["kind"] == "act"]
    assert [(a["action"], a["result"], a["by"]) for a in acts] == [
        ("visit", "follow_up", "platform"),
        ("referral", "agreement", "platform"),
    ]
    assert acts[0]["at"] == at
    audited = {e["action"] for e in app.store.audit_entries(limit=10_000)}
    assert {"warning:acknowledge", "warning:act", "warning:close", "warning:reopen"} <= audited


def test_refused_steps_say_what_to_do_and_write_nothing(app: App, issued: dict) -> None:
    wid = _fresh(app)
    before = _written(app)
    for kind, first in [("close", "resolve it"), ("resolve", "record at least one action")]:
        r = _event(app, wid, kind=kind)
        assert r.status_code == 409, r.text
        assert first in r.json()["error"]
    r = _act(app, wid, kind="visit")
    assert r.status_code == 409 and "assign an owner first" in r.json()["error"]
    r = _event(app, wid, kind="assign")  # an assign without an owner
    assert r.status_code == 400 and "owner" in r.json()["error"]
    r = _event(app, wid, kind="reopen", note="再次冲突")
    assert r.status_code == 409 and "only a closed warning" in r.json()["error"]
    r = _act(app, wid, kind="visit", at="2999-01-01T00:00:00Z")
    assert r.status_code == 400 and "has passed" in r.json()["error"]
    assert _written(app) == before
    assert _event(app, "W-nope", kind="acknowledge").status_code == 404
    assert (
        app.client.get("/v1/warnings/W-nope", headers=app.keys.header("scorer")).status_code == 404
    )
    # a newline inside an id matches none of BentoML's mounts: still the one error body
    r = app.client.post("/v1/warnings/a%0Ab/events", json={}, headers=app.keys.header("supervisor"))
    assert r.status_code == 404 and "no such endpoint" in r.json()["error"]


def test_a_referral_must_use_a_channel_the_tier_offers(app: App, issued: dict) -> None:
    [w] = _get(app, "/v1/warnings", tier="blue", state="issued", limit=1)["items"]
    _event(app, w["warning_id"], kind="acknowledge")
    _event(app, w["warning_id"], kind="assign", owner="officer-y")
    r = _act(app, w["warning_id"], kind="referral")
    assert r.status_code == 400 and "channel" in r.json()["error"]
    # blue offers people's mediation and mental-health or social services only
    r = _act(app, w["warning_id"], kind="referral", channel="police")
    assert r.status_code == 409 and "not offered" in r.json()["error"]
    r = _act(app, w["warning_id"], kind="referral", channel="people_mediation")
    assert r.status_code == 200, r.text


def test_overdue_warnings_escalate_at_the_next_snapshot(
    app: App, issued: dict, served: Served
) -> None:
    later = get_clock().utc_now() + dt.timedelta(days=5)  # past every acknowledge deadline
    with use_clock(FixedClock(later)):
        late = _get(app, "/v1/warnings", overdue="true", limit=1000)
        assert late["total"] > 0 and all(w["overdue"] for w in late["items"])
        not_late = _get(app, "/v1/warnings", overdue="false", limit=1000)
        assert not any(w["overdue"] for w in not_late["items"])
        r = app.client.post(
            "/v1/snapshot",
            json={"as_of": served.dataset.end.strftime("%Y-%m-%d")},
            headers=app.keys.header("admin"),
        )
        assert r.status_code == 200, r.text
        assert r.json()["warnings"]["escalate"] > 0
        escalated = _get(app, f"/v1/warnings/{late['items'][0]['warning_id']}")
    assert escalated["events"][-1]["kind"] == "escalate"
    assert escalated["events"][-1]["note"].startswith("overdue")
    assert escalated["warning"]["escalations"] == 1


def test_lists_filter_and_page(app: App, issued: dict) -> None:
    everything = _get(app, "/v1/warnings", limit=1000)
    total = everything["total"]
    pages = [_get(app, "/v1/warnings", limit=2, offset=o)["items"] for o in range(0, total, 2)]
    assert [w["warning_id"] for p in pages for w in p] == [
        w["warning_id"] for w in everything["items"]
    ]
    township = everything["items"][0]["township"]
    here = _get(app, "/v1/warnings", township=township, limit=1000)
    assert here["total"] == sum(w["township"] == township for w in everything["items"])
    first = everything["items"][0]
    mine = _get(app, "/v1/warnings", dispute_id=first["dispute_id"])["items"]
    assert [w["warning_id"] for w in mine] == [first["warning_id"]]
    for tier in ("red", "orange"):
        got = _get(app, "/v1/warnings", tier=tier, limit=1000)["items"]
        assert all(w["tier"] == tier for w in got)
    for query, status in [
        ({"limit": 1001}, 400),
        ({"limit": 0}, 400),
        ({"offset": -1}, 400),
        ({"tier": "purple"}, 400),
        ({"state": "lost"}, 400),
        ({"teir": "red"}, 400),  # a misspelt filter must not list every warning
    ]:
        r = app.client.get("/v1/warnings", params=query, headers=app.keys.header("scorer"))
        assert r.status_code == status, (query, r.text)


def test_access_scorer_reports_supervisor_manages_admin_edits_the_policy(
    app: App, issued: dict
) -> None:
    wid = _fresh(app)
    assert _event(app, wid, role="scorer", kind="acknowledge").status_code == 403
    assert _event(app, wid, role="supervisor", kind="acknowledge").status_code == 200
    assert app.client.get("/v1/warnings").status_code == 401
    policy = load_policy().model_dump(mode="json")
    policy["version"] = "2027-test"
    for role in ("scorer", "supervisor"):
        r = app.client.put("/v1/warnings/policy", json=policy, headers=app.keys.header(role))
        assert r.status_code == 403, r.text
    bad = {**policy, "tiers": {**policy["tiers"], "purple": policy["tiers"]["red"]}}
    r = app.client.put("/v1/warnings/policy", json=bad, headers=app.keys.header("admin"))
    assert r.status_code == 400 and "unknown tier 'purple'" in r.json()["error"]
    assert "\n" not in r.json()["error"]
    r = app.client.put("/v1/warnings/policy", json=policy, headers=app.keys.header("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["version"] == "2027-test"
    assert app.store.routing_policy().version == "2027-test"
