"""The bundled eastern-flank scenario: its regions, force-model tiers, sources, gauge break and
network connectivity, checked against the public figures it claims to encode."""

from __future__ import annotations

import re
from collections import defaultdict, deque
from collections.abc import Iterable

import pytest

import forcemodel
from forcemodel import Scenario
from forcemodel.scenario.summary import tier_table

EIGHT_ALLIES = {
    "estonia": "EE",
    "latvia": "LV",
    "lithuania": "LT",
    "poland": "PL",
    "slovakia": "SK",
    "hungary": "HU",
    "romania": "RO",
    "bulgaria": "BG",
}
# Framework (lead) nation of the forward land forces in each host nation.
FRAMEWORK = {
    "estonia": "GB",
    "latvia": "CA",
    "lithuania": "DE",
    "poland": "US",
    "slovakia": "CZ",
    "hungary": "HU",
    "romania": "FR",
    "bulgaria": "IT",
}
# NATO Force Model: tier 1 well over 100,000 in up to 10 days; tier 2 around 200,000 in
# 10-30 days; tier 3 at least 500,000 in 30-180 days.
TIER_WINDOW = {1: (0.0, 10.0), 2: (10.0, 30.0), 3: (30.0, 180.0)}
CITED_ID = re.compile(r"\[([a-z0-9][a-z0-9-]*)\]")


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return forcemodel.load_scenario("eastern-flank")


def test_meta(sc: Scenario) -> None:
    assert sc.meta.name == "eastern-flank"
    assert sc.meta.horizon_days == 180
    assert sc.meta.warning_day == 10
    assert sc.meta.description
    assert sc.meta.sources


def test_the_eight_forward_presence_allies_are_regions(sc: Scenario) -> None:
    regions = {r.id: r for r in sc.regions}
    assert set(regions) == set(EIGHT_ALLIES)
    node_ids = {n.id for n in sc.nodes}
    for rid, country in EIGHT_ALLIES.items():
        region = regions[rid]
        assert region.country == country
        assert region.reception in node_ids
        assert sc.node(region.reception).country == country
        assert region.in_place, rid
        assert region.requirement.land, f"{rid}: no land requirement curve"
        assert region.rsom.t_per_day and region.rsom.pax_per_day


def test_forward_deployed_forces_of_the_framework_nations(sc: Scenario) -> None:
    for region in sc.regions:
        nations = {f.nation for f in region.in_place}
        assert FRAMEWORK[region.id] in nations, region.id
        assert EIGHT_ALLIES[region.id] in nations, f"{region.id}: no host-nation forces"


def test_panzerbrigade_45_in_lithuania(sc: Scenario) -> None:
    lithuania = next(r for r in sc.regions if r.id == "lithuania")
    german = [f for f in lithuania.in_place if f.nation == "DE"]
    assert any(f.type == "armoured_brigade" and "45" in (f.name or "") for f in german)


def test_one_threat_per_region(sc: Scenario) -> None:
    assert {t.region for t in sc.threats} == set(EIGHT_ALLIES)
    for t in sc.threats:
        assert t.relative_to == "warning_day"
        assert t.land, t.region


def test_tier_totals_meet_the_force_model(sc: Scenario) -> None:
    table = tier_table(sc).set_index("tier")
    assert table.loc[1, "troops"] > 100_000
    assert 180_000 <= table.loc[2, "troops"] <= 250_000
    assert table.loc[3, "troops"] >= 500_000


def test_notice_to_move_within_the_tier_window(sc: Scenario) -> None:
    for u in sc.units:
        low, high = TIER_WINDOW[u.tier]
        assert low <= u.notice_to_move_days <= high, (u.id, u.tier, u.notice_to_move_days)


def test_pre_assignment_and_pre_positioned_sets(sc: Scenario) -> None:
    assigned = {u.assigned_to for u in sc.units if u.assigned_to}
    assert {"estonia", "latvia", "lithuania", "poland"} <= assigned
    set_types = {s.set_type for s in sc.stocks}
    users = [u for u in sc.units if u.set_type]
    assert users
    assert all(u.set_type in set_types for u in users)
    uk = next(u for u in sc.units if u.id == "uk-4bct")
    assert uk.assigned_to == "estonia" and uk.tier == 1 and uk.notice_to_move_days <= 10


def test_aps2_sites(sc: Scenario) -> None:
    depots = {s.depot for s in sc.stocks}
    for site in ("nl-eygelshoven", "be-zutendaal", "de-mannheim", "pl-powidz-depot", "de-dulmen"):
        assert site in depots, site
    powidz = next(s for s in sc.stocks if s.depot == "pl-powidz-depot")
    assert powidz.set_type == "us_abct" and powidz.sets == 1 and powidz.draw_days == 7
    assert all(s.draw_days > 0 for s in sc.stocks)


def _sources(sc: Scenario) -> Iterable[tuple[str, str | None]]:
    for table in ("nodes", "links", "lift_pools", "units", "stocks", "regions"):
        for item in getattr(sc, table):
            yield f"{table}:{item.id}", item.source
    for t in sc.threats:
        yield f"threats:{t.region}", t.source
    for r in sc.regions:
        yield f"regions:{r.id}.rsom", r.rsom.source
        for i, f in enumerate(r.in_place):
            yield f"regions:{r.id}.in_place[{i}]", f.source


def test_every_row_has_a_source(sc: Scenario) -> None:
    missing = [where for where, src in _sources(sc) if not (src and src.strip())]
    assert not missing, missing


def test_cited_source_ids_exist(sc: Scenario) -> None:
    known = {s.id for s in sc.meta.sources}
    cited = {m for _, src in _sources(sc) for m in CITED_ID.findall(src or "")}
    assert cited, "no row cites a meta.sources entry"
    assert cited <= known, sorted(cited - known)
    for s in sc.meta.sources:
        assert s.title.strip(), s.id


def test_gauge_break_needs_and_has_transshipment(sc: Scenario) -> None:
    gauges: dict[str, set[int]] = defaultdict(set)
    for lk in sc.links:
        if lk.mode == "rail":
            assert lk.gauge is not None
            gauges[lk.from_].add(lk.gauge)
            gauges[lk.to].add(lk.gauge)
    breaks = {n for n, gs in gauges.items() if {1435, 1520} <= gs}
    assert breaks, "no node where 1435 and 1520 mm rail meet"
    for n in breaks:
        ts = sc.node(n).transship
        assert ts is not None and ts.t_per_day > 0, n
    # Rail Baltica standard gauge reaches Kaunas (since 2015): the break is in Lithuania.
    assert "lt-kaunas" in breaks
    assert all(sc.node(n).country == "LT" for n in breaks)


def test_corridors_ports_and_airfields(sc: Scenario) -> None:
    ids = {n.id for n in sc.nodes}
    for node in (
        "nl-rotterdam",
        "be-antwerp",
        "de-bremerhaven",
        "pl-gdansk",
        "pl-gdynia",
        "lt-klaipeda",
        "lv-riga",
        "ee-muuga",
        "ro-constanta",
        "bg-varna",
        "bg-burgas",
        "us-port-charleston",
        "us-port-beaumont",
        "de-ramstein",
        "pl-rzeszow",
        "pl-powidz-ab",
        "lt-siauliai",
        "ee-amari",
        "lv-lielvarde",
        "ro-mk",
    ):
        assert node in ids, node
    modes = {lk.mode for lk in sc.links}
    assert {"rail", "road", "sea", "air"} <= modes
    pools = {p.id: p for p in sc.lift_pools}
    assert {p.mode for p in pools.values()} >= {"sea", "air"}
    for lk in sc.links:
        if lk.mode in ("sea", "air"):
            assert lk.pool in pools, lk.id
    assert 60 <= len(sc.nodes) <= 150
    assert 100 <= len(sc.links) <= 300


def _reachable(sc: Scenario, start: str) -> set[str]:
    adjacent: dict[str, set[str]] = defaultdict(set)
    for lk in sc.links:
        adjacent[lk.from_].add(lk.to)
        if lk.bidirectional:
            adjacent[lk.to].add(lk.from_)
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in adjacent[queue.popleft()] - seen:
            seen.add(nxt)
            queue.append(nxt)
    return seen


def test_every_home_reaches_every_reception(sc: Scenario) -> None:
    receptions = {r.reception for r in sc.regions}
    homes = {u.home for u in sc.units} | {s.depot for s in sc.stocks}
    unreachable = [
        (home, rec) for home in sorted(homes) for rec in sorted(receptions - _reachable(sc, home))
    ]
    assert not unreachable, unreachable[:10]
