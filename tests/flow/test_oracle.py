"""The engine against the event-by-event SimPy reference (oracles/simpy_flow.py).

Both follow docs/simulation.md; on the same scenario they must give every unit the same arrival
and closure day. Besides ``tiny`` and plain synthetic scenarios, two variants stress the rules:
one with tight capacities and many pre-positioned sets drawn (queues, draws, RSOM), and one where
every delay is a whole number of days and every amount and daily capacity a power of two, so that
many requests come at exactly a day start, loads fill a day's capacity exactly, and the
tie-breaking rules decide the outcome. The reference's per-day server is checked by hand too.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from oracles.network import Network, Server
from oracles.planner import plan_units as reference_plan
from oracles.simpy_flow import STEP, DailyCapacity, RuleEnvironment, baseline_days

import forcemodel
from forcemodel import simulate
from forcemodel.flow.plan import plan_units
from forcemodel.network.compile import (
    CLASS_EQUIPMENT,
    CLASS_OUTSIZE,
    CLASS_PEOPLE,
    compile_network,
)
from forcemodel.scenario.model import Scenario
from forcemodel.scenario.synthetic import synthetic_scenario

TOL = 1e-9


def _assert_same(scenario: Scenario) -> None:
    units = simulate(scenario).tables["units"]
    reference = baseline_days(scenario)
    assert len(reference) == len(units)
    wrong = []
    for uid, arrival, closure in zip(
        units["unit"], units["arrival_day"], units["closure_day"], strict=True
    ):
        ref_arrival, ref_closure = reference[uid]
        # A unit still moving when the run stops (day 2 * horizon) never closes, in both.
        same_closure = closure == ref_closure or abs(closure - ref_closure) <= TOL
        if abs(arrival - ref_arrival) > TOL or not same_closure:
            wrong.append((uid, arrival, ref_arrival, closure, ref_closure))
    assert units["closure_day"].map(math.isfinite).mean() > 0.5, "most units must close"
    assert not wrong, (
        f"{len(wrong)} of {len(units)} units differ (engine vs reference: arrival, arrival, "
        f"closure, closure), first: {wrong[:5]}"
    )


def _tight(data: dict[str, Any]) -> dict[str, Any]:
    """Quarter rail and road capacities, plenty of sets with short draws."""
    for stock in data["stocks"]:
        if "set_type" in stock:
            stock["sets"], stock["draw_days"] = 30, 1
    for link in data["links"]:
        if link.get("t_per_day"):
            link["t_per_day"] /= 4
    return data


def _pow2(x: float) -> int:
    return int(2 ** round(math.log2(x)))


def _whole_days(data: dict[str, Any]) -> dict[str, Any]:
    """Delays in whole days, amounts and rates powers of two: many exact ties in time."""
    for node in data["nodes"]:
        node["handling_hours"] = 24
        for key in ("t_per_day", "pax_per_day"):
            if node.get(key):
                node[key] = _pow2(node[key])
        if node.get("transship"):
            node["transship"] = {"t_per_day": 4096, "hours": 24}
    for i, link in enumerate(data["links"]):
        link["speed_kmh"], link["distance_km"] = 25, 25 * 24 * (1 + i % 3)
        for key in ("t_per_day", "pax_per_day"):
            if link.get(key):
                link[key] = _pow2(link[key])
    for pool in data["lift_pools"]:
        pool.update(assets=16, availability=1.0, speed_kmh=25, turnaround_hours=0)
        pool.update(payload_t=1024, pax=512 if pool["pax"] else 0)
    for i, unit in enumerate(data["units"]):
        unit["equipment_t"], unit["personnel"] = 1024 * (1 + i % 3), 512 * (1 + i % 3)
        unit["notice_to_move_days"] = i % 5
    for stock in data["stocks"]:
        if "set_type" in stock:
            stock["sets"], stock["draw_days"] = 30, 0
    for region in data["regions"]:
        region["rsom"].update(t_per_day=4096, pax_per_day=2048)
    for d in data["disruptions"]:
        d["capacity_factor"] = 0.5
    return data


def test_tiny() -> None:
    _assert_same(forcemodel.load_scenario("tiny"))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_synthetic(seed: int) -> None:
    data = synthetic_scenario(300, 60, 120, regions=4, seed=seed)
    _assert_same(forcemodel.load_scenario_data(data))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tight_with_sets(seed: int) -> None:
    data = _tight(synthetic_scenario(300, 40, 90, regions=3, seed=seed))
    scenario = forcemodel.load_scenario_data(data)
    assert simulate(scenario).tables["units"]["set_from"].ne("").any()  # sets are drawn
    _assert_same(scenario)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_exact_ties(seed: int) -> None:
    data = _whole_days(synthetic_scenario(300, 40, 90, regions=3, seed=seed))
    _assert_same(forcemodel.load_scenario_data(data))


def _prepared(data: dict[str, Any], whole: bool) -> dict[str, Any]:
    """Preparation before the first move: load-out at home, reserve lift activated late,
    border permits (docs/simulation.md, "Preparation")."""
    for i, unit in enumerate(data["units"]):
        unit["load_out_days"] = (i % 4) * (1.0 if whole else 1.37)
    for i, pool in enumerate(data["lift_pools"]):
        pool["activation_days"] = 5.0 if whole else 4.6 + i
    countries = sorted({n["country"] for n in data["nodes"]})
    data["meta"]["permit_days"] = {
        c: (3.0 if whole else 2.5 + 1.3 * i) for i, c in enumerate(countries) if i % 2 == 0
    }
    return data


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_preparation(seed: int) -> None:
    data = _prepared(synthetic_scenario(300, 40, 120, regions=3, seed=seed), whole=False)
    _assert_same(forcemodel.load_scenario_data(data))
    ties = _prepared(_whole_days(synthetic_scenario(300, 40, 90, regions=3, seed=seed)), True)
    _assert_same(forcemodel.load_scenario_data(ties))


def _profiled(data: dict[str, Any], whole: bool = False) -> dict[str, Any]:
    """Movement profiles (docs/simulation.md): ships home at ports, squadrons at airfields;
    each region but the first gets a port and an air base of its own, reached by sea links
    (with a sealift pool, which ships do not use) and air links (with airlift)."""
    nodes = {n["id"]: n for n in data["nodes"]}
    ports = [n for n, v in nodes.items() if v["kind"] == "port"]
    fields = [n for n, v in nodes.items() if v["kind"] == "airfield"]
    if not fields:  # an airfield of the squadrons' own, by road from a port
        base = nodes[ports[0]]
        data["nodes"].append({**base, "id": "airfield-home", "kind": "airfield"})
        data["links"].append({"from": ports[0], "to": "airfield-home", "mode": "road"})
        fields = ["airfield-home"]
    sea_pool = next(p["id"] for p in data["lift_pools"] if p["mode"] == "sea")
    air_pool = next(p["id"] for p in data["lift_pools"] if p["mode"] == "air" and p["payload_t"])
    for j, region in enumerate(data["regions"][1:], start=1):
        rec = nodes[region["reception"]]
        for kind, new in (("port", f"port-r{j}"), ("airfield", f"airbase-r{j}")):
            data["nodes"].append(
                {"id": new, "kind": kind, "country": rec["country"], "lat": rec["lat"] + 0.1,
                 "lon": rec["lon"] + 0.1, "pax_per_day": 900}
            )  # fmt: skip
        for i, p in enumerate(ports):
            data["links"].append(
                {"from": p, "to": f"port-r{j}", "mode": "sea", "pool": sea_pool,
                 "distance_km": 24 * 25 * (1 + i) if whole else 700.0 + 130 * i + 17 * j}
            )  # fmt: skip
        for i, f in enumerate(fields):
            data["links"].append(
                {"from": f, "to": f"airbase-r{j}", "mode": "air", "pool": air_pool,
                 "distance_km": 24 * 25 * (1 + i) if whole else 900.0 + 210 * i + 31 * j}
            )  # fmt: skip
        region["port"] = {"node": f"port-r{j}", "pax_per_day": 1024 if whole else 700,
                          "days": 1 if whole else 1.5}  # fmt: skip
        region["air_base"] = {"node": f"airbase-r{j}", "t_per_day": 1024 if whole else 900,
                              "pax_per_day": 512 if whole else 400, "days": 1}  # fmt: skip
    for i, unit in enumerate(data["units"]):
        if unit["type"] == "naval_task_group":
            unit["home"] = ports[i % len(ports)]
        elif unit["type"] == "fighter_squadron":
            unit["home"] = fields[i % len(fields)]
    return data


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_movement_profiles(seed: int) -> None:
    """Ships sail to ports under their own power, squadrons' support flies to air bases,
    tracked equipment marches one road link at most: the reference agrees."""
    data = _profiled(synthetic_scenario(300, 40, 120, regions=3, seed=seed))
    scenario = forcemodel.load_scenario_data(data)
    units = simulate(scenario).tables["units"]
    ports = {r.port.node for r in scenario.regions if r.port is not None}
    ships = units[units["type"] == "naval_task_group"]
    assert ships["region"].ne("region-000").any()  # some ships are received at a port
    _assert_same(scenario)
    ties = _profiled(_whole_days(synthetic_scenario(300, 40, 90, regions=3, seed=seed)), True)
    _assert_same(forcemodel.load_scenario_data(ties))
    assert ports


def _transfers(data: dict[str, Any], whole: bool = False) -> dict[str, Any]:
    """Per-mode transfer capacity (docs/simulation.md, stage 2): ramps at railheads and
    junctions, discharge berths and ramps at ports, loaders at airfields, some with their own
    hours; the transship nodes keep theirs."""
    for i, node in enumerate(data["nodes"]):
        if "transship" in node:
            continue
        if node["kind"] in ("railhead", "junction", "garrison"):
            node["transfer"] = {"rail": {"t_per_day": 2048 if whole else 2500 + 100 * i}}
            if i % 2:
                node["transfer"]["road"] = {
                    "t_per_day": 4096 if whole else 6000,
                    "hours": 24 if whole else 3,
                }
        elif node["kind"] == "port":
            sea = {"t_per_day": 1024 if whole else 1800, "hours": 48 if whole else 30}
            node["transfer"] = {"sea": sea, "rail": {"t_per_day": 4096 if whole else 3500}}
        elif node["kind"] == "airfield":
            node["transfer"] = {
                "air": {"t_per_day": 512 if whole else 700, "hours": 24 if whole else 5}
            }
    return data


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_mode_transfers(seed: int) -> None:
    """Loading and unloading by mode at each node, with its own capacity and hours: the
    reference agrees, and some load waits at such a server."""
    data = _transfers(synthetic_scenario(300, 40, 120, regions=3, seed=seed))
    scenario = forcemodel.load_scenario_data(data)
    nl = simulate(scenario).node_load
    assert nl["server"].str.startswith("transfer ").any()
    _assert_same(scenario)
    ties = _transfers(_whole_days(synthetic_scenario(300, 40, 90, regions=3, seed=seed)), True)
    _assert_same(forcemodel.load_scenario_data(ties))
    both = _profiled(_transfers(synthetic_scenario(300, 40, 120, regions=3, seed=seed + 7)))
    _assert_same(forcemodel.load_scenario_data(both))


def test_reference_server_by_hand() -> None:
    """The reference's capacity per day on a worked example (docs/simulation.md, "Servers")."""
    env = RuleEnvironment()
    server = Server(0, "s", 10.0, windows=[(1.5, 2.5, 0.5)])
    # C(0) = 10, C(1) = C(2) = 7.5 (half of each day at half), C(3) = 10
    assert [server.day_capacity(d) for d in range(4)] == [10.0, 7.5, 7.5, 10.0]
    cap = DailyCapacity(env, server)
    passed: dict[str, float] = {}
    waits: dict[str, float] = {}

    def load(name: str, t: float, work: float, tier: int, unit: int) -> Any:
        yield env.timeout(t)
        key = (tier, 0.0, unit, 0)
        waiting = cap.request(work, (tier, 0.0, env.now, unit, 0), (STEP, key))
        if waiting is not None:
            yield waiting
        passed[name] = env.now

    def probe(name: str, t: float, work: float) -> Any:
        yield env.timeout(t)
        waits[name] = cap.wait(env.now, work)

    for name, t, work, tier, unit in [
        ("a", 0.5, 4, 1, 0),  # fits: passes at once, 6 left
        ("b", 0.6, 8, 1, 1),  # takes the 6 left, waits for 2
        ("c", 0.7, 3, 0, 2),  # somebody waits: takes nothing; more urgent, served first on day 1
        ("d", 1.2, 2, 1, 3),  # day 1: 7.5 - 3 - 2 = 2.5 left: passes at once
        ("e", 1.3, 10, 1, 4),  # takes 0.5; 7.5 on day 2; the last 2 at day 3's start
        ("f", 3.0, 1, 0, 5),  # at the instant 3, before the day start: waits, more urgent than e
    ]:
        env.start((STEP, (tier, 0.0, unit, 0)), load(name, t, work, tier, unit))
    env.start((STEP, (9, 0.0, 9, 0)), probe("at 3, before the day start", 3.0, 8))
    env.start((STEP, (9, 0.0, 9, 0)), probe("day 3, after it", 3.5, 8))
    env.run()
    assert passed == {"a": 0.5, "b": 1.0, "c": 1.0, "d": 1.2, "e": 3.0, "f": 3.0}
    # queued 2 + 1, plus 8, beyond all of C(3) = 10; then 8 beyond the 7 left on day 3
    assert waits == pytest.approx({"at 3, before the day start": 0.1, "day 3, after it": 0.1})
    assert cap.left == 7.0 and not cap.queue


def _scenario_for_parts(which: int) -> Scenario:
    """Scenarios with sets, disruptions, two gauges and pools, for the parts' own tests."""
    if which == 0:
        return forcemodel.load_scenario("tiny")
    data = [
        lambda: synthetic_scenario(300, 60, 120, regions=4, seed=1),
        lambda: _tight(synthetic_scenario(300, 40, 90, regions=3, seed=2)),
        lambda: _whole_days(synthetic_scenario(200, 40, 90, regions=3, seed=3)),
    ][which - 1]()
    return forcemodel.load_scenario_data(data)


@pytest.mark.parametrize("which", range(4))
def test_reference_plan_is_the_engines(which: int) -> None:
    """The reference's own day-0 planner decides exactly what forcemodel's does."""
    scenario = _scenario_for_parts(which)
    net = compile_network(scenario)
    engine = plan_units(scenario, net)
    reference = reference_plan(scenario, Network(scenario))
    assert len(reference) == len(engine)
    for mine, theirs in zip(reference, engine, strict=True):
        assert mine.region == theirs.region
        assert mine.reception == net.node_ids[theirs.reception]
        assert mine.stock == theirs.stock
        assert mine.depot == (None if theirs.depot is None else net.node_ids[theirs.depot])
        assert mine.urgency == theirs.urgency  # exactly: urgency orders the queues
        assert mine.est_closure == theirs.est_closure
    if which == 2:
        assert any(p.stock is not None for p in reference)  # sets are drawn


@pytest.mark.parametrize("which", range(4))
def test_reference_time_to_go_is_the_engines(which: int) -> None:
    """networkx Dijkstra on the reference's own state graph gives compile's tables, exactly."""
    scenario = _scenario_for_parts(which)
    net = compile_network(scenario)
    mine = Network(scenario)
    assert mine.classes == net.classes
    assert [s.rate for s in mine.servers] == [s.rate for s in net.servers]
    days = range(scenario.meta.horizon_days + 1)
    for a, b in zip(mine.servers, net.servers, strict=True):
        assert [a.day_capacity(d) for d in days] == [b.day_capacity(d) for d in days], a.label
    classes = {CLASS_PEOPLE: "people", CLASS_EQUIPMENT: "equipment", CLASS_OUTSIZE: "outsize"}
    arrived_by = [None, *mine.classes]
    dests = [r.reception for r in scenario.regions] + [s.depot for s in scenario.stocks][:2]
    amounts = sorted({0.0, 1.0} | {u.equipment_t for u in scenario.units[:20]})
    amounts += [float(u.personnel) for u in scenario.units[:5]] + [1e5, 1e7]
    compared = finite = 0
    for dest in dests:
        for cls, name in classes.items():
            for amount in amounts:
                theirs = net.time_to_go(net.node_index[dest], cls, amount)
                table = mine.time_to_go(dest, name, amount)
                ours = [[table.get((v, k), math.inf) for k in arrived_by] for v in net.node_ids]
                assert ours == theirs, (dest, name, amount)
                compared += 1
                finite += sum(math.isfinite(x) for row in ours for x in row)
    assert compared >= 3 * len(amounts) and finite > 0
