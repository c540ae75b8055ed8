"""Rules that keep loads doing what real loads do (docs/simulation.md, "A hop" and "Routing"):
every change of mode or gauge passes the node's transfer, no load enters a node twice on a
move, a detour never beats the transfer it avoids, a dead-end link changes nothing, and the
gauge break of eastern-flank carries rail traffic whose capacity matters."""

from __future__ import annotations

import copy
import functools
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forcemodel
from forcemodel import simulate
from forcemodel.assessment import assess
from forcemodel.results import Results
from forcemodel.scenario.model import Scenario
from forcemodel.scenario.synthetic import synthetic_scenario

SMALL = st.tuples(
    st.integers(4, 16), st.integers(6, 12), st.integers(1, 3), st.integers(0, 100_000)
)
TABLES = ("units", "unit_events", "region_power", "link_load", "node_load", "pool_load")


@functools.lru_cache(maxsize=64)
def run(params: tuple[int, int, int, int]) -> tuple[Scenario, Results]:
    units, nodes, regions, seed = params
    data = synthetic_scenario(units=units, nodes=nodes, days=120, regions=regions, seed=seed)
    s = forcemodel.load_scenario_data(data)
    return s, simulate(s)


def moves(results: Results) -> list[pd.DataFrame]:
    """Each load's move rows, one frame per move (a draw at a depot starts a new move)."""
    ev = results.unit_events
    out = []
    for _, rows in ev.groupby(["unit", "load"], sort=False):
        move = (rows["kind"] == "draw").cumsum()
        for _, part in rows[rows["kind"] == "move"].groupby(move[rows["kind"] == "move"]):
            out.append(part)
    return out


def link_class(s: Scenario) -> dict[str, str]:
    return {lk.id: f"rail{lk.gauge}" if lk.mode == "rail" else str(lk.mode) for lk in s.links}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SMALL)
def test_no_load_enters_a_node_twice_on_a_move(params: tuple[int, int, int, int]) -> None:
    _s, results = run(params)
    for part in moves(results):
        path = [part["from"].iloc[0], *part["to"]]
        assert len(path) == len(set(path)), path
        assert (part["from"].iloc[1:].to_numpy() == part["to"].iloc[:-1].to_numpy()).all()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SMALL)
def test_every_change_of_mode_or_gauge_passes_the_transfer(
    params: tuple[int, int, int, int],
) -> None:
    """The hop after a change of class spends at least the transfer time at the node before it
    departs, and at a node with a transship server its tons are counted there."""
    s, results = run(params)
    cls = link_class(s)
    nodes = {n.id: n for n in s.nodes}
    hours = s.meta.transfer_hours
    passed: dict[str, float] = {}
    changes = 0
    for part in moves(results):
        if part["load"].iloc[0] != "equipment":
            continue
        k = [cls[x] for x in part["link"]]
        for i in range(1, len(part)):
            if k[i] == k[i - 1]:
                continue
            changes += 1
            node = nodes[part["from"].iloc[i]]
            if node.transship is not None:
                need = node.transship.hours / 24
                if part["start"].iloc[i] < s.meta.horizon_days - 1:  # loads tabled to then
                    passed[node.id] = passed.get(node.id, 0.0) + 1
            else:
                mode_in, mode_out = (c[:4] if c.startswith("rail") else c for c in k[i - 1 : i + 1])
                need = (hours.of(mode_in) + hours.of(mode_out)) / 24
            need += node.handling_hours / 24
            spent = part["depart"].iloc[i] - part["start"].iloc[i]
            assert spent >= need - 1e-9, (part.iloc[i].to_dict(), need)
    transship = results.node_load[results.node_load["server"].str.startswith("transship at")]
    for node_id in passed:
        assert (transship["target"] == node_id).any(), node_id
    assert changes >= 0


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SMALL, st.data())
def test_a_dead_end_link_changes_no_result(
    params: tuple[int, int, int, int], data: st.DataObject
) -> None:
    """A new place reached by one new link from a node (any mode, any capacity) is a dead end
    for every load: going there could only come back through the same node, which costs the
    transfer again (docs/simulation.md, "Routing"). Every table stays the same."""
    units, nodes, regions, seed = params
    raw = synthetic_scenario(units=units, nodes=nodes, days=120, regions=regions, seed=seed)
    _s, base = run(params)
    at = data.draw(st.sampled_from(raw["nodes"]))
    mode = data.draw(st.sampled_from(["road", "rail", "sea", "inland"]))
    spur_end = {**{k: at[k] for k in ("country", "lat", "lon")}, "id": "spur-end"}
    raw["nodes"].append({**spur_end, "kind": "junction"})
    link: dict[str, Any] = {"id": "spur", "from": at["id"], "to": "spur-end", "mode": mode}
    link.update(distance_km=data.draw(st.floats(0.01, 50)), speed_kmh=1200)
    if mode == "rail":  # a gauge the node already has, unless it can transship
        gauges = {x["gauge"] for x in raw["links"] if at["id"] in (x["from"], x["to"])
                  and x.get("gauge")}  # fmt: skip
        link["gauge"] = 1520 if "transship" in at or gauges == {1520} else 1435
    raw["links"].append(link)
    after = simulate(forcemodel.load_scenario_data(raw))
    for name in TABLES:
        pd.testing.assert_frame_equal(base.tables[name], after.tables[name], obj=name)


def _corridor(spur: bool) -> dict[str, Any]:
    """The issue's minimal case: a brigade goes a -> g on 1520 mm and g -> r on 1435 mm; g
    transships 2,000 t a day; ``spur`` adds a 5 km road g -> x that leads nowhere."""
    node = {"kind": "railhead", "country": "LT", "lat": 54.0, "lon": 23.0}
    data: dict[str, Any] = {
        "meta": {"name": "gauge-dodge", "horizon_days": 60},
        "nodes": [
            {**node, "id": "a", "kind": "garrison"},
            {**node, "id": "g", "transship": {"t_per_day": 2000, "hours": 12}},
            {**node, "id": "r", "kind": "assembly_area"},
        ],
        "links": [
            {
                "from": "a",
                "to": "g",
                "mode": "rail",
                "gauge": 1520,
                "distance_km": 200,
                "speed_kmh": 25,
            },
            {
                "from": "g",
                "to": "r",
                "mode": "rail",
                "gauge": 1435,
                "distance_km": 200,
                "speed_kmh": 25,
            },
        ],
        "units": [
            {
                "id": "bde",
                "nation": "LT",
                "type": "mechanised_brigade",
                "tier": 1,
                "home": "a",
                "notice_to_move_days": 0,
            }
        ],
        "regions": [{"id": "lt", "reception": "r", "requirement": {"land": [[0, 1]]}}],
    }
    if spur:
        data["nodes"].append({**node, "id": "x", "kind": "junction"})
        data["links"].append({"from": "g", "to": "x", "mode": "road", "distance_km": 5})
    return data


def test_a_detour_never_beats_the_transfer_it_avoids() -> None:
    plain = simulate(forcemodel.load_scenario_data(_corridor(spur=False)))
    with_spur = simulate(forcemodel.load_scenario_data(_corridor(spur=True)))
    for r in (plain, with_spur):
        legs = r.unit_events[(r.unit_events["kind"] == "move")]
        assert "x" not in set(legs["to"])
        tons = r.node_load.loc[r.node_load["server"] == "transship at g", "load"].sum()
        assert tons == r.units["equipment_t"].iloc[0] > 0
    assert plain.units["closure_day"].iloc[0] == with_spur.units["closure_day"].iloc[0]


def test_eastern_flank_gauge_break_carries_rail_traffic_that_matters() -> None:
    """The transship servers at the 1435/1520 mm break carry tons, and halving them costs the
    Baltic regions: a later closure, or (where a region's closure day is set by units that do
    not cross the break) more brigade-days short and later units among those that cross it."""
    s = forcemodel.load_scenario("eastern-flank")
    base = simulate(s)
    breaks = ("lt-sestokai", "lt-kaunas")
    nl = base.node_load
    tons = nl.loc[nl["server"].isin([f"transship at {b}" for b in breaks]), "load"].sum()
    assert tons > 10_000
    data = copy.deepcopy(s.model_dump(by_alias=True, mode="json", exclude_none=True))
    for n in data["nodes"]:
        if n["id"] in breaks:
            n["transship"]["t_per_day"] /= 2
    halved = simulate(forcemodel.load_scenario_data(data))
    baltic = ["estonia", "latvia", "lithuania"]
    caps = [assess(r).capabilities for r in (base, halved)]
    before, after = (c[c["region"].isin(baltic)].set_index(["region", "capability"]) for c in caps)
    later = (after["closure_day"] > before["closure_day"]).any()
    short = after["shortfall_bde_days"].sum() > before["shortfall_bde_days"].sum() + 0.5
    ev = base.unit_events
    crossing = set(ev.loc[ev["from"].isin(breaks) & (ev["load"] == "equipment"), "unit"])
    b_units, h_units = (r.units.set_index("unit").loc[sorted(crossing)] for r in (base, halved))
    delayed = (h_units["closure_day"] > b_units["closure_day"]).sum()
    assert later or (short and delayed >= 2), (later, short, delayed)


# -- movement profiles (docs/simulation.md, "Movement profiles") ------------------------------


@functools.lru_cache(maxsize=1)
def eastern_flank() -> tuple[Scenario, Results]:
    s = forcemodel.load_scenario("eastern-flank")
    return s, simulate(s)


def test_ships_sail_with_their_crews_to_a_port() -> None:
    """Every task group sails by sea alone, passes no server on the way (no lift pool, no
    port handling: its own power), and is received at its region's port, not the army's."""
    s, r = eastern_flank()
    regions = {x.id: x for x in s.regions}
    ev = r.unit_events
    ships = r.units[r.units["type"] == "naval_task_group"]
    assert len(ships) >= 5
    for unit, region in zip(ships["unit"], ships["region"], strict=True):
        port = regions[region].port
        assert port is not None
        legs = ev[(ev["unit"] == unit) & (ev["kind"] == "move")]
        assert set(legs["mode"]) == {"sea"} and (legs["load"] == "people").all()
        assert legs["to"].iloc[-1] == port.node
        assert (legs["wait_reason"] == "").all(), legs["wait_reason"].tolist()
        rsom = ev[(ev["unit"] == unit) & (ev["kind"] == "rsom")]
        assert set(rsom["from"]) == {port.node}
    closed = ships["closure_day"] - ships["arrival_day"]
    assert closed.to_numpy() == pytest.approx(1.0)  # the port's reception day, not the army's RSOM


def test_squadrons_fly_to_an_air_base() -> None:
    """A squadron's support flies (air links only) to its region's air base and passes the air
    base's reception there, never the army's RSOM."""
    s, r = eastern_flank()
    regions = {x.id: x for x in s.regions}
    ev = r.unit_events
    squadrons = r.units[r.units["type"] == "fighter_squadron"]
    assert len(squadrons) >= 30
    for unit, region in zip(squadrons["unit"], squadrons["region"], strict=True):
        base = regions[region].air_base
        assert base is not None
        legs = ev[(ev["unit"] == unit) & (ev["kind"] == "move")]
        assert set(legs["mode"]) == {"air"}, legs["mode"].tolist()
        assert set(legs.groupby("load")["to"].last()) == {base.node}
    rsom = r.rsom_load
    assert rsom["server"].str.startswith("air base").any()
    army = rsom[rsom["server"].str.startswith("RSOM")]
    assert not squadrons.empty and army["load"].sum() > 0


def _road_marches(s: Scenario, results: Results) -> list[tuple[str, float, bool]]:
    """(unit, road link km, right after another road link) of every tracked equipment's road
    leg."""
    limit = {u.id: u.max_road_march_km for u in s.units}
    km = {lk.id: lk.distance_km for lk in s.links}
    out = []
    for part in moves(results):
        unit = part["unit"].iloc[0]
        if part["load"].iloc[0] != "equipment" or limit[unit] is None:
            continue
        modes = part["mode"].tolist()
        for i, (mode, link) in enumerate(zip(modes, part["link"], strict=True)):
            if mode == "road":
                out.append((unit, km[link], i > 0 and modes[i - 1] == "road"))
    return out


def test_tracked_equipment_never_road_marches_beyond_its_limit() -> None:
    """In eastern-flank, no tracked unit's equipment takes a road link longer than its
    max_road_march_km, nor two road links in a row; before the rule they road-marched some
    600 km on average (Hannover to the Baltic on its tracks)."""
    s, r = eastern_flank()
    limit = {u.id: u.max_road_march_km for u in s.units}
    marches = _road_marches(s, r)
    assert marches  # short marches to and from railheads remain
    for unit, km, chained in marches:
        assert limit[unit] is not None and km <= limit[unit] and not chained, (unit, km)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SMALL)
def test_tracked_marches_hold_in_random_scenarios(params: tuple[int, int, int, int]) -> None:
    s, results = run(params)
    limit = {u.id: u.max_road_march_km for u in s.units}
    for unit, km, chained in _road_marches(s, results):
        assert km <= (limit[unit] or 0) and not chained, (unit, km, chained)


def _ship_case(pool_assets: int) -> dict[str, Any]:
    """A task group at a home port, a sea link with a lift pool to the region's port."""
    return {
        "meta": {"name": "ship", "horizon_days": 30},
        "nodes": [
            {"id": "home", "kind": "port", "country": "DE", "lat": 54, "lon": 10},
            {
                "id": "port",
                "kind": "port",
                "country": "DE",
                "lat": 57,
                "lon": 22,
                "pax_per_day": 1,
                "handling_hours": 48,
            },
            {"id": "camp", "kind": "assembly_area", "country": "DE", "lat": 57, "lon": 22.5},
        ],
        "links": [
            {
                "from": "home",
                "to": "port",
                "mode": "sea",
                "distance_km": 888,
                "speed_kmh": 37,
                "pool": "ferries",
                "pax_per_day": 1,
            },
            {"from": "port", "to": "camp", "mode": "road", "distance_km": 40, "speed_kmh": 8},
        ],
        "lift_pools": [
            {
                "id": "ferries",
                "mode": "sea",
                "assets": pool_assets,
                "payload_t": 100,
                "pax": 10,
                "speed_kmh": 37,
                "turnaround_hours": 100,
            }
        ],
        "units": [
            {
                "id": "tg",
                "nation": "DE",
                "type": "naval_task_group",
                "tier": 1,
                "notice_to_move_days": 2,
                "home": "home",
            }
        ],
        "regions": [
            {
                "id": "r",
                "reception": "camp",
                "rsom": {"pax_per_day": 1, "days": 5},
                "port": {"node": "port", "pax_per_day": 5000, "days": 1},
            }
        ],
    }


def test_a_ship_sails_under_its_own_power() -> None:
    """Neither the sea link's capacity, its lift pool nor the port's handling slows a task
    group: it arrives after its notice and its sailing time, and counts a day later (the
    port's reception), whatever the pool."""
    results = [simulate(forcemodel.load_scenario_data(_ship_case(n))) for n in (1, 1000)]
    for r in results:
        row = r.units.iloc[0]
        assert row["arrival_day"] == 2 + 888 / 37 / 24
        assert row["closure_day"] == row["arrival_day"] + 1
        assert r.pool_load.empty and r.link_load.empty


def _berth_case(discharge_t: float | None) -> dict[str, Any]:
    """Two brigades' equipment by sea to a port, then by rail: the port's discharge berths
    (its sea ``transfer``) and its railhead ramps set the pace."""
    port: dict[str, Any] = {"id": "port", "kind": "port", "country": "LT", "lat": 55.7, "lon": 21.1}
    if discharge_t is not None:
        port["transfer"] = {"sea": {"t_per_day": discharge_t, "hours": 36}, "rail": {"hours": 6}}
    return {
        "meta": {"name": "berths", "horizon_days": 60},
        "nodes": [
            {"id": "home", "kind": "port", "country": "DE", "lat": 53.5, "lon": 8.6},
            port,
            {"id": "camp", "kind": "assembly_area", "country": "LT", "lat": 55.1, "lon": 24.1},
        ],
        "links": [
            {"from": "home", "to": "port", "mode": "sea", "distance_km": 1200},
            {"from": "port", "to": "camp", "mode": "rail", "gauge": 1435, "distance_km": 250},
        ],
        "units": [
            {
                "id": f"bde-{i}",
                "nation": "DE",
                "type": "infantry_brigade",
                "tier": 1,
                "notice_to_move_days": 0,
                "load_out_days": 0,
                "home": "home",
            }
            for i in range(2)
        ],
        "regions": [{"id": "r", "reception": "camp", "rsom": {"days": 1}}],
    }


def test_a_port_discharges_at_its_berths_pace() -> None:
    """Without a port capacity both brigades pass at once (unloading 24 h, loading 12 h); with
    berths discharging 3,000 t a day their 12,000 t wait their turn (berth waits), and the
    port's own hours replace the defaults (36 h off the ship, 6 h onto the train)."""
    free = simulate(forcemodel.load_scenario_data(_berth_case(None)))
    berths = simulate(forcemodel.load_scenario_data(_berth_case(3000)))
    ev = free.unit_events
    legs = ev[(ev["from"] == "port") & (ev["load"] == "equipment")]
    assert (legs["depart"] - legs["start"]).to_numpy() == pytest.approx(36 / 24)
    legs = berths.unit_events[
        (berths.unit_events["from"] == "port") & (berths.unit_events["load"] == "equipment")
    ]
    waited = sorted(legs["depart"] - legs["start"] - 42 / 24)
    # In on day 1 (1,200 km at 37 km/h): 3,000 t that day, the first brigade's other 3,000 t
    # at day 2's start, the second brigade's 6,000 t by day 4's.
    arrived = 1200 / 37 / 24
    assert waited == pytest.approx([2 - arrived, 4 - arrived]), waited
    assert set(legs["wait_reason"]) <= {"transfer sea at port"}
    nl = berths.node_load[berths.node_load["server"] == "transfer sea at port"]
    assert nl["load"].sum() == 12_000 and nl["load"].max() <= 3000 + 1e-6
    assert berths.units["closure_day"].max() > free.units["closure_day"].max() + 2
