"""Graph features checked against networkx on the graph rebuilt from the tables."""

from __future__ import annotations

import itertools

import networkx as nx
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskwarn import Dataset
from riskwarn.features import build_features, open_disputes


def graph_at(ds, t: pd.Timestamp) -> nx.Graph:
    """The contract's graph at ``t`` built the plain way."""
    g = nx.Graph()
    g.add_nodes_from(ds.persons["person_id"])
    r = ds.relationships
    live = (r["since"].isna() | (r["since"] <= t)) & (r["until"].isna() | (r["until"] > t))
    for a, b in zip(r.loc[live, "person_a"], r.loc[live, "person_b"], strict=True):
        if a != b:
            g.add_edge(a, b)
    known = set(ds.disputes.loc[ds.disputes["reported_at"] <= t, "dispute_id"])
    parties = ds.dispute_parties[ds.dispute_parties["dispute_id"].isin(known)]
    for _, people in parties.groupby("dispute_id")["person_id"]:
        g.add_edges_from(itertools.combinations(sorted(set(people)), 2))
    return g


def expected(ds, t: pd.Timestamp, dispute: str, g: nx.Graph) -> dict[str, object]:
    people = set(ds.dispute_parties.loc[ds.dispute_parties["dispute_id"] == dispute, "person_id"])
    comps = {frozenset(nx.node_connected_component(g, p)) for p in people}
    linked = g.subgraph([n for n in g if g.degree(n) > 0])
    rank = nx.pagerank(linked, tol=1e-10, max_iter=1000) if len(linked) else {}
    core = nx.core_number(g)
    ring1 = set().union(*(set(g[p]) for p in people)) - people
    inc = ds.incidents.merge(ds.incident_persons, on="incident_id")
    recent = inc[(inc["occurred_at"] > t - pd.Timedelta(days=180)) & (inc["occurred_at"] <= t)]
    sources = set(recent["person_id"])
    hops = 4
    if sources:
        dist = nx.multi_source_dijkstra_path_length(g, sources, cutoff=3)
        hops = min([dist[p] for p in people if p in dist], default=4)
    near90 = recent[
        recent["person_id"].isin(ring1) & (recent["occurred_at"] > t - pd.Timedelta(days=90))
    ]
    open_now = set(open_disputes(ds, t)) - {dispute}
    around = ds.dispute_parties[ds.dispute_parties["person_id"].isin(people | ring1)]
    return {
        "graph_component_size": sum(len(c) for c in comps),
        "graph_core_max": max(core[p] for p in people),
        "graph_pagerank_max": max(rank.get(p, 0.0) * len(linked) for p in people),
        "graph_neighbors": len(ring1),
        "ego_incident_hops_180d": hops,
        "ego_incidents_1hop_90d": near90["incident_id"].nunique(),
        "ego_open_disputes_1hop": len(set(around["dispute_id"]) & open_now),
    }


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(30, 230))
def test_graph_features_match_networkx(kit, seed, day) -> None:
    tables = kit.Tables(seed)
    people = tables.persons(30)
    tables.grids()
    ids = tables.disputes(16, people)
    tables.ties(45, people)
    tables.incidents(6, people, ids)
    ds = Dataset.from_frames(**tables.frames())
    t = pd.Timestamp("2024-01-01") + pd.Timedelta(days=day)
    known = sorted(ds.disputes.loc[ds.disputes["reported_at"] <= t, "dispute_id"])
    table = build_features(ds, pd.DataFrame({"dispute_id": known, "as_of": [t] * len(known)}))
    g = graph_at(ds, t)
    for _, row in table.iterrows():
        want = expected(ds, t, row["dispute_id"], g)
        for name, value in want.items():
            if name == "graph_pagerank_max":
                assert abs(row[name] - value) < 1e-3, (row["dispute_id"], name)
            else:
                assert row[name] == value, (row["dispute_id"], name, row[name], value)


def test_creditor_ties_count_from_both_sides_and_ended_ties_stop_counting(kit) -> None:
    tables = kit.Tables(0)
    tables.persons(3)
    tables.add(
        "disputes",
        dispute_id="D",
        reported_at=pd.Timestamp("2024-03-01"),
        grid_id="G0",
        category="debt",
        source="hotline",
        threat_reported=False,
        violence_reported=False,
        weapon_mentioned=False,
        amount_involved=None,
        summary=None,
    )
    tables.add("dispute_parties", dispute_id="D", person_id="P0", role="claimant")
    tables.add("dispute_parties", dispute_id="D", person_id="P1", role="respondent")
    for a, b, kind, since, until in (
        ("P0", "P1", "creditor_debtor", None, None),
        ("P2", "P1", "creditor_debtor", "2024-02-01", None),
        ("P0", "P1", "spouse", None, "2024-03-10"),
        ("P0", "P1", "former_spouse", "2024-03-10", None),
    ):
        tables.add(
            "relationships",
            person_a=a,
            person_b=b,
            kind=kind,
            since=pd.Timestamp(since) if since else None,
            until=pd.Timestamp(until) if until else None,
        )
    ds = Dataset.from_frames(**tables.frames())
    snaps = pd.DataFrame(
        {"dispute_id": ["D", "D"], "as_of": pd.to_datetime(["2024-03-09", "2024-03-10"])}
    )
    before, after = (row for _, row in build_features(ds, snaps).iterrows())
    assert before["ties_creditor_debtor_sum"] == 3  # P0-P1 seen from both, P2-P1 from P1
    assert before["ties_between_creditor_debtor"] and before["ties_between_spouse"]
    assert not before["ties_between_former_spouse"] and not before["ties_between_ended_365d"]
    assert not after["ties_between_spouse"] and after["ties_between_former_spouse"]
    assert after["ties_between_ended_365d"] and after["ties_ended_365d_sum"] == 2
    assert after["graph_neighbors"] == 1 and after["graph_component_size"] == 3
