"""Graph features checked against networkx, the reference, on graphs rebuilt from the tables.

The library sweeps its graphs forward in time and computes component sizes, core numbers
and PageRank with scipy; networkx's ``connected_components``, ``core_number`` and
``pagerank`` on the graphs rebuilt from nothing at as_of must give the same values, in the
relationship graph, the co-involvement graph and their union, for every person (probed
one by one through a single-party dispute) and for every real case.
"""

from __future__ import annotations

import itertools

import networkx as nx
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskwarn import Dataset, simulate
from riskwarn.features import FeatureBuilder, build_features, open_disputes

PREFIX = {"all": "graph", "ties": "graph_ties", "co": "graph_co"}
PAGERANK_TOL = 1e-3  # the library keeps 4 decimals of the scaled rank
ROUNDED = 0.5e-4 + 1e-8
"""The library's PageRank is the scaled value rounded to 4 decimals: within half a step of
the exact value (a hair more where the exact value sits on a rounding boundary)."""


def graphs_at(ds: Dataset, t: pd.Timestamp) -> dict[str, nx.Graph]:
    """The contract's relationship, co-involvement and people graphs at ``t``, built plainly."""
    day = t.normalize()
    ties, co = nx.Graph(), nx.Graph()
    for g in (ties, co):
        g.add_nodes_from(ds.persons["person_id"])
    r = ds.relationships
    live = (r["since"].isna() | (r["since"] <= day)) & (r["until"].isna() | (r["until"] > day))
    for a, b in zip(r.loc[live, "person_a"], r.loc[live, "person_b"], strict=True):
        if a != b:
            ties.add_edge(a, b)
    known = set(ds.disputes.loc[ds.disputes["reported_at"] <= day, "dispute_id"])
    parties = ds.dispute_parties[ds.dispute_parties["dispute_id"].isin(known)]
    for _, people in parties.groupby("dispute_id")["person_id"]:
        co.add_edges_from(itertools.combinations(sorted(set(people)), 2))
    return {"all": nx.compose(ties, co), "ties": ties, "co": co}


def measures(g: nx.Graph) -> dict[str, dict]:
    """networkx's component size, core number and PageRank (scaled: 1 = average linked)."""
    linked = g.subgraph([n for n in g if g.degree(n) > 0])
    rank = nx.pagerank(linked, tol=1e-15, max_iter=10_000) if len(linked) else {}
    return {
        "size": {n: len(c) for c in nx.connected_components(g) for n in c},
        "core": nx.core_number(g),
        "pagerank": {n: rank.get(n, 0.0) * len(linked) for n in g},
        "components": {n: frozenset(c) for c in nx.connected_components(g) for n in c},
    }


def expected(ds, t: pd.Timestamp, dispute: str, graphs: dict, m: dict) -> dict[str, object]:
    """What every graph feature of ``dispute`` at ``t`` must be, from networkx."""
    day = t.normalize()
    g = graphs["all"]
    people = set(ds.dispute_parties.loc[ds.dispute_parties["dispute_id"] == dispute, "person_id"])
    out: dict[str, object] = {}
    for name, prefix in PREFIX.items():
        comps = {m[name]["components"][p] for p in people}
        out[f"{prefix}_component_size"] = sum(len(c) for c in comps)
        out[f"{prefix}_core_max"] = max(m[name]["core"][p] for p in people)
        out[f"{prefix}_pagerank_max"] = max(m[name]["pagerank"][p] for p in people)
    ring1 = set().union(*(set(g[p]) for p in people)) - people
    out["graph_neighbors"] = len(ring1)
    out["graph_ties_neighbors"] = len(
        set().union(*(set(graphs["ties"][p]) for p in people)) - people
    )
    out["graph_co_parties"] = len(set().union(*(set(graphs["co"][p]) for p in people)) - people)
    inc = ds.incidents.merge(ds.incident_persons, on="incident_id")
    recent = inc[(inc["occurred_at"] > day - pd.Timedelta(days=180)) & (inc["occurred_at"] <= day)]
    sources = set(recent["person_id"])
    hops = 4
    if sources:
        dist = nx.multi_source_dijkstra_path_length(g, sources, cutoff=3)
        hops = min([dist[p] for p in people if p in dist], default=4)
    near90 = recent[
        recent["person_id"].isin(ring1) & (recent["occurred_at"] > day - pd.Timedelta(days=90))
    ]
    open_now = set(open_disputes(ds, day)) - {dispute}
    around = ds.dispute_parties[ds.dispute_parties["person_id"].isin(people | ring1)]
    out["ego_incident_hops_180d"] = hops
    out["ego_incidents_1hop_90d"] = near90["incident_id"].nunique()
    out["ego_open_disputes_1hop"] = len(set(around["dispute_id"]) & open_now)
    return out


def assert_matches(row: pd.Series, want: dict[str, object]) -> None:
    for name, value in want.items():
        if name.endswith("_pagerank_max"):
            assert abs(row[name] - value) < PAGERANK_TOL, (
                row["dispute_id"],
                name,
                row[name],
                value,
            )
        else:
            assert row[name] == value, (row["dispute_id"], name, row[name], value)


def with_probes(ds: Dataset, at: pd.Timestamp) -> tuple[Dataset, dict[str, str]]:
    """``ds`` plus one single-party dispute per person, reported at ``at``: such a dispute
    adds no link, and its graph features are its one person's measures."""
    people = ds.persons["person_id"].tolist()
    probes = {f"PROBE{i}": p for i, p in enumerate(people)}
    grid = ds.persons["grid_id"].iloc[0]
    disputes = pd.DataFrame(
        {
            "dispute_id": list(probes),
            "reported_at": at,
            "grid_id": grid,
            "category": "other",
            "source": "other",
            "threat_reported": False,
            "violence_reported": False,
            "weapon_mentioned": False,
            "amount_involved": None,
            "summary": None,
        }
    )
    parties = pd.DataFrame(
        {"dispute_id": list(probes), "person_id": list(probes.values()), "role": "claimant"}
    )
    frames = ds.tables()
    frames["disputes"] = pd.concat([ds.disputes, disputes], ignore_index=True)
    frames["dispute_parties"] = pd.concat([ds.dispute_parties, parties], ignore_index=True)
    return Dataset.from_frames(**frames), probes


def assert_every_person_matches(ds: Dataset, t: pd.Timestamp) -> None:
    """Component size, core number and PageRank of every person, in all three graphs."""
    assert_every_person_matches_over(ds, [t])


def assert_every_person_matches_over(ds: Dataset, dates: list[pd.Timestamp]) -> None:
    """The same on many dates, all built by one builder in one sweep (so components are
    carried over from date to date), each checked against networkx on the graphs rebuilt
    from the tables at that date."""
    probed, probes = with_probes(ds, min(dates).normalize() - pd.Timedelta(days=1))
    snaps = pd.DataFrame(
        [(probe, t) for t in dates for probe in probes], columns=["dispute_id", "as_of"]
    )
    table = FeatureBuilder(probed).transform(snaps)
    for t in dates:
        graphs = graphs_at(ds, t)
        m = {name: measures(g) for name, g in graphs.items()}
        linked = {name: sum(1 for n in g if g.degree(n) > 0) for name, g in graphs.items()}
        assert linked["ties"] and linked["co"], "the check needs links in both graphs"
        for _, row in table.loc[table["as_of"] == t].iterrows():
            p = probes[row["dispute_id"]]
            for name, prefix in PREFIX.items():
                assert row[f"{prefix}_component_size"] == m[name]["size"][p], (t, p, name)
                assert row[f"{prefix}_core_max"] == m[name]["core"][p], (t, p, name)
                rank = m[name]["pagerank"][p]
                assert abs(row[f"{prefix}_pagerank_max"] - rank) <= ROUNDED, (t, p, name)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_person_matches_networkx_on_a_random_graph(kit, seed) -> None:
    """Ties from a G(n, m) random graph (dense enough for 3- and 4-cores), co-involvement
    from random multi-party disputes, checked person by person."""
    tables = kit.Tables(seed)
    people = tables.persons(80)
    g = nx.gnm_random_graph(80, 240, seed=seed)
    kinds = ("neighbor", "relative", "colleague", "creditor_debtor")
    for i, (a, b) in enumerate(sorted(g.edges())):
        tables.add(
            "relationships",
            person_a=people[a],
            person_b=people[b],
            kind=kinds[i % len(kinds)],
            since=None,
            until=None,
        )
    tables.disputes(30, people)
    ds = Dataset.from_frames(**tables.frames())
    t = pd.Timestamp("2024-01-01") + pd.Timedelta(days=200)
    cores = set(measures(graphs_at(ds, t)["ties"])["core"].values())
    assert max(cores) >= 3, "the random graph should hold a deeper core"
    assert_every_person_matches(ds, t)


def test_every_person_and_case_matches_networkx_on_a_simulated_county() -> None:
    ds = simulate(persons=3000, years=1.5, seed=3)
    t = pd.Timestamp(ds.disputes["reported_at"].max()).normalize() - pd.Timedelta(days=30)
    assert_every_person_matches(ds, t)
    known = sorted(ds.disputes.loc[ds.disputes["reported_at"] <= t, "dispute_id"])
    table = build_features(ds, pd.DataFrame({"dispute_id": known, "as_of": t}))
    graphs = graphs_at(ds, t)
    m = {name: measures(g) for name, g in graphs.items()}
    for _, row in table.iterrows():
        assert_matches(row, expected(ds, t, row["dispute_id"], graphs, m))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(30, 230), st.integers(0, 86_399))
def test_graph_features_match_networkx(kit, seed, day, seconds) -> None:
    tables = kit.Tables(seed)
    people = tables.persons(30)
    tables.grids()
    ids = tables.disputes(16, people)
    tables.ties(45, people)
    tables.incidents(6, people, ids)
    ds = Dataset.from_frames(**tables.frames())
    t = pd.Timestamp("2024-01-01") + pd.Timedelta(days=day, seconds=seconds)
    known = sorted(ds.disputes.loc[ds.disputes["reported_at"] <= t, "dispute_id"])
    table = build_features(ds, pd.DataFrame({"dispute_id": known, "as_of": [t] * len(known)}))
    graphs = graphs_at(ds, t)
    m = {name: measures(g) for name, g in graphs.items()}
    for _, row in table.iterrows():
        assert_matches(row, expected(ds, t, row["dispute_id"], graphs, m))


def test_one_sweep_over_many_dates_matches_networkx_on_a_random_graph(kit) -> None:
    """Ties of a G(n, m) random graph that start and end at random days (so components
    merge and split between dates), co-involvement from random disputes: every person on
    every date of one sweep, against networkx rebuilt per date."""
    tables = kit.Tables(4)
    people = tables.persons(120)
    g = nx.gnm_random_graph(120, 260, seed=4)
    kinds = ("neighbor", "relative", "colleague", "creditor_debtor")
    base = pd.Timestamp("2024-01-01")
    for i, (a, b) in enumerate(sorted(g.edges())):
        since = base + pd.Timedelta(days=int(tables.rng.integers(0, 200)))
        until = since + pd.Timedelta(days=int(tables.rng.integers(10, 150)))
        tables.add(
            "relationships",
            person_a=people[a],
            person_b=people[b],
            kind=kinds[i % len(kinds)],
            since=since if i % 3 else None,
            until=until if i % 2 else None,
        )
    tables.disputes(60, people)
    ds = Dataset.from_frames(**tables.frames())
    dates = [
        base + pd.Timedelta(days=d, hours=h) for d, h in ((40, 0), (90, 13), (150, 2), (230, 0))
    ]
    assert_every_person_matches_over(ds, dates)


def test_one_sweep_over_many_dates_matches_networkx_on_a_simulated_county() -> None:
    """A county large enough that its big components are solved iteratively, swept over a
    year of dates."""
    ds = simulate(persons=2500, years=1.5, seed=8)
    end = pd.Timestamp(ds.disputes["reported_at"].max()).normalize()
    dates = [end - pd.Timedelta(days=d) for d in (330, 240, 150, 60, 0)]
    assert_every_person_matches_over(ds, dates)


def _drop(ds: Dataset, did: str, people: list[str]) -> Dataset:
    """``ds`` without dispute ``did`` and without ``people`` (who appear nowhere else)."""
    frames = dict(ds.tables())
    frames["disputes"] = ds.disputes[ds.disputes["dispute_id"] != did]
    frames["dispute_parties"] = ds.dispute_parties[ds.dispute_parties["dispute_id"] != did]
    frames["dispute_events"] = ds.dispute_events[ds.dispute_events["dispute_id"] != did]
    frames["persons"] = ds.persons[~ds.persons["person_id"].isin(people)]
    return Dataset.from_frames(**frames)


def _with_new_person(ds: Dataset, did: str, person: dict) -> Dataset:
    """``ds`` with ``person`` added, as a party of dispute ``did``."""
    frames = dict(ds.tables())
    frames["persons"] = pd.concat([ds.persons, pd.DataFrame([person])], ignore_index=True)
    party = {"dispute_id": did, "person_id": person["person_id"], "role": "other"}
    frames["dispute_parties"] = pd.concat(
        [ds.dispute_parties, pd.DataFrame([party])], ignore_index=True
    )
    return Dataset.from_frames(**frames)


def _kind(graphs: dict[str, nx.Graph], people: list[str]) -> set[str]:
    """What a case's links do to the graphs they join."""
    out = set()
    held = [p for p in people if p in graphs["all"]]
    giant = max(nx.connected_components(graphs["all"]), key=len)
    co = {frozenset(nx.node_connected_component(graphs["co"], p)) for p in held}
    if len(co) > 1:
        out.add("merges")
    pairs = [(a, b) for i, a in enumerate(held) for b in held[i + 1 :]]
    if any(not graphs["all"].has_edge(a, b) for a, b in pairs) and set(held) <= giant:
        out.add("joins the giant")
    return out


def test_a_new_case_gets_the_features_it_gets_once_held() -> None:
    """Cases given as rows, on several days after they were reported (so their links join
    the day's graphs), equal the same cases once the dataset holds them: cases that merge
    components, that add links inside the giant component, that bring new people."""
    ds = simulate(persons=3000, years=1.5, seed=3)
    end = pd.Timestamp(ds.disputes["reported_at"].max()).normalize()
    recent = ds.disputes[ds.disputes["reported_at"].between(end - pd.Timedelta(days=100), end)]
    n_parties = ds.dispute_parties.groupby("dispute_id")["person_id"].nunique()
    picked = [d for d in sorted(recent["dispute_id"]) if n_parties.get(d, 0) >= 2][::4][:24]
    seen: set[str] = set()
    for i, did in enumerate(picked):
        full = ds
        if i % 2:  # a party the dataset does not hold yet, living in the case's grid
            grid = ds.disputes.loc[ds.disputes["dispute_id"] == did, "grid_id"].iloc[0]
            person = {"person_id": f"NEW{i}", "birth_year": 1990, "gender": "female"}
            full = _with_new_person(ds, did, {**person, "grid_id": grid, "household_id": None})
            seen.add("brings new people")
        dispute = full.disputes.loc[full.disputes["dispute_id"] == did].iloc[0].to_dict()
        rows = full.dispute_parties["dispute_id"] == did
        parties = full.dispute_parties.loc[rows].to_dict("records")
        events = full.dispute_events.loc[full.dispute_events["dispute_id"] == did].to_dict(
            "records"
        )
        for p in parties:
            if p["person_id"].startswith("NEW"):
                p.update(person, grid_id=grid, household_id=None)
        reported = pd.Timestamp(dispute["reported_at"])
        as_of = reported.normalize() + pd.Timedelta(days=(1, 7, 40)[i % 3], hours=10)
        without = _drop(ds, did, [])
        seen |= _kind(graphs_at(without, as_of), [p["person_id"] for p in parties])
        got = FeatureBuilder(without).features_for_case(dispute, parties, events, as_of)
        held = FeatureBuilder(full).features_for(did, as_of)
        for name, value in held.items():
            same = value == got[name] or (value != value and got[name] != got[name])
            assert same, (did, as_of, name, value, got[name])
    assert seen >= {"merges", "joins the giant", "brings new people"}, seen


@pytest.mark.parametrize("rails", [24, 300])
def test_a_new_case_across_a_ladder_gets_its_held_core_numbers(kit, rails) -> None:
    """A ladder of ties (two rails joined by rungs) is a 2-core in which every inner
    person has three links: a new link across it reaches the whole ladder when core
    numbers are updated link by link (a long ladder is then peeled whole instead); the
    numbers (the four parties, now a clique, rise to 3) must be those of the dataset
    holding the case."""
    tables = kit.Tables(0)
    people = tables.persons(2 * rails)
    for i in range(rails):
        pairs = [(i, rails + i)] + ([(i, i + 1), (rails + i, rails + i + 1)] * (i + 1 < rails))
        for a, b in pairs:
            tables.add(
                "relationships",
                person_a=people[a],
                person_b=people[b],
                kind="neighbor",
                since=None,
                until=None,
            )
    ds = Dataset.from_frames(**tables.frames())
    reported = pd.Timestamp("2024-03-01T09:00")
    case = {
        "dispute_id": "X",
        "reported_at": reported,
        "grid_id": "G0",
        "category": "neighbor",
        "source": "hotline",
        "threat_reported": False,
        "violence_reported": False,
        "weapon_mentioned": False,
        "amount_involved": None,
        "summary": None,
    }
    parties = [
        {"dispute_id": "X", "person_id": people[3], "role": "claimant"},
        {"dispute_id": "X", "person_id": people[rails + rails // 2], "role": "respondent"},
        {"dispute_id": "X", "person_id": people[rails - 4], "role": "other"},
        {"dispute_id": "X", "person_id": people[rails + 7], "role": "other"},
    ]
    frames = dict(ds.tables())
    frames["disputes"] = pd.DataFrame([case])
    frames["dispute_parties"] = pd.DataFrame(parties)
    held = Dataset.from_frames(**frames)
    for as_of in (reported + pd.Timedelta(hours=3), reported + pd.Timedelta(days=2)):
        got = FeatureBuilder(ds).features_for_case(case, parties, [], as_of)
        want = FeatureBuilder(held).features_for("X", as_of)
        assert all(kit.same_value(want[k], got[k]) for k in want), as_of
    assert want["graph_core_max"] == 3 and want["graph_ties_core_max"] == 2  # the four rose


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
    assert after["graph_ties_component_size"] == 3 and after["graph_co_component_size"] == 2
    assert after["graph_ties_neighbors"] == 1 and after["graph_co_parties"] == 0  # D itself


def test_the_graphs_measured_side_by_side_give_what_each_gives_alone() -> None:
    """GraphDay.ensure computes the three graphs' measures on threads at once; over a sweep
    of dates (carrying over what did not change), every person's measures must equal those
    of a second sweep that computes each graph alone."""
    import numpy as np

    from riskwarn.features._graph import GRAPHS, PeopleGraph
    from riskwarn.features._index import Index

    ds = simulate(persons=4000, years=1.5, seed=3)
    index = Index.of(ds)
    end = pd.Timestamp(ds.disputes["reported_at"].max()).normalize()
    together, alone = PeopleGraph(index), PeopleGraph(index)
    everyone = np.arange(index.n_persons)
    for back in (300, 200, 100, 0):
        t = (end - pd.Timedelta(days=back)).value
        a, b = together.day(t, everyone[:0], 4), alone.day(t, everyone[:0], 4)
        a.ensure(everyone)
        assert all(a.graphs[name].known.all() for name in GRAPHS)
        assert a.measures("all", everyone).component_size.max() > 2000, (
            "the check needs an iteratively solved component"
        )
        for name in GRAPHS:
            got, want = a.measures(name, everyone), b.measures(name, everyone)
            for field in ("component", "component_size", "core", "pagerank"):
                assert np.array_equal(getattr(got, field), getattr(want, field)), (name, field)
