"""Fuzzing the scenario format: whatever validates, ``simulate`` runs to its end and saves.

Scenarios are drawn over the whole schema, with figures at and beyond the physical bounds
(docs/scenario-format.md, "Bounds"). Each either fails validation with located problems or
runs: ``simulate`` returns (or names unreachable units), within the work bound of
:func:`forcemodel.flow.engine.event_bound` (events processed, not seconds), and its results
save as Parquet. No traceback, no hang: the bound is on work, so the test never reads a clock.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import forcemodel
from forcemodel import ScenarioError, UnreachableError, simulate
from forcemodel.flow.engine import event_bound
from forcemodel.network.compile import compile_network


def figure(low: float, high: float, *, zero: bool = False) -> st.SearchStrategy[float]:
    """A figure within the bounds, often at an edge (the bounds themselves are tested in
    tests/scenario/test_bounds.py; here what validates must run)."""
    out = st.one_of(st.floats(low, high), st.sampled_from([low, high]))
    return st.one_of(out, st.just(0.0)) if zero else out


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    n_nodes = draw(st.integers(2, 6))
    ids = [f"n{i}" for i in range(n_nodes)]
    nodes = []
    for i in ids:
        node: dict[str, Any] = {"id": i, "kind": draw(st.sampled_from(["railhead", "port",
                                "airfield", "garrison", "depot", "junction"])),
                                "country": "PL", "lat": 52.0, "lon": 20.0}  # fmt: skip
        if draw(st.booleans()):
            node["t_per_day"] = draw(figure(1, 1e9))
        if draw(st.booleans()):
            node["handling_hours"] = draw(figure(0, 8760))
        if draw(st.booleans()):
            node["transship"] = {"t_per_day": draw(figure(1, 1e9)),
                                 "hours": draw(figure(0, 8760))}  # fmt: skip
        if draw(st.booleans()):  # loading and unloading by mode
            modes = draw(st.sets(st.sampled_from(["rail", "road", "sea", "air"]), max_size=2))
            node["transfer"] = {m: {"t_per_day": draw(figure(1, 1e9)),
                                    "hours": draw(figure(0, 8760))} for m in modes}  # fmt: skip
        nodes.append(node)
    pools = [{"id": "lift", "mode": "air", "assets": draw(st.integers(1, 100_000)),
              "payload_t": draw(figure(0.01, 1e6, zero=True)), "pax": draw(figure(1, 1e5,
              zero=True)), "speed_kmh": draw(figure(1, 1200)), "turnaround_hours":
              draw(figure(0, 8760)), "availability": draw(figure(0.01, 1)),
              "outsize": draw(st.booleans())}]  # fmt: skip
    links = []
    # A road chain joins every node (so most units can move), then links drawn at random.
    pairs = [(ids[i], ids[i + 1], "road") for i in range(n_nodes - 1)]
    for _ in range(draw(st.integers(0, 6))):
        a = draw(st.sampled_from(ids))
        pairs.append((a, draw(st.sampled_from([i for i in ids if i != a])), ""))
    for a, b, chain in pairs:
        mode = chain or draw(st.sampled_from(["rail", "road", "sea", "air", "inland"]))
        link: dict[str, Any] = {"from": a, "to": b, "mode": mode,
                                "distance_km": draw(figure(0.01, 40075)),
                                "speed_kmh": draw(figure(1, 1200)),
                                "bidirectional": bool(chain) or draw(st.booleans())}  # fmt: skip
        link["id"] = f"l{len(links)}"
        if mode == "rail":
            link["gauge"] = 1435
        if draw(st.booleans()):
            link["t_per_day"] = draw(figure(1, 1e9, zero=True))
        if mode == "air" and draw(st.booleans()):
            link["pool"] = "lift"
        links.append(link)
    units = [
        {"id": f"u{k}", "nation": "DE", "type": draw(st.sampled_from(["armoured_brigade",
         "infantry_brigade", "fighter_squadron", "naval_task_group"])),
         "tier": draw(st.integers(0, 9)), "max_road_march_km": draw(st.sampled_from(
             [None, 1.0, 150.0, 40075.0])),
         "home": draw(st.sampled_from(ids)), "personnel": draw(st.sampled_from([0, 1, 1_000_000])),
         "equipment_t": draw(figure(0, 1e7)), "notice_to_move_days": draw(figure(0, 36500))}
        for k in range(draw(st.integers(1, 4)))
    ]  # fmt: skip
    regions = [{"id": "r", "reception": draw(st.sampled_from(ids)),
                "rsom": {"t_per_day": draw(figure(1, 1e9)), "days": draw(figure(0, 36500))},
                "requirement": {"land": [[0, draw(figure(0, 1e6))]]}}]  # fmt: skip
    for where in ("port", "air_base"):  # a movement profile's own reception
        if draw(st.booleans()):
            regions[0][where] = {"node": draw(st.sampled_from(ids)),
                                 "pax_per_day": draw(figure(1, 1e9)),
                                 "days": draw(figure(0, 36500))}  # fmt: skip
    capped = [x["id"] for x in nodes + links if x.get("t_per_day")]
    disruptions = [
        {"target": draw(st.sampled_from(capped)),
         "start_day": draw(figure(0, 36500)), "days": draw(figure(0.001, 36500)),
         "capacity_factor": draw(st.sampled_from([0.0, 1e-9, 0.5, 1.0]))}
        for _ in range(draw(st.integers(0, 3) if capped else st.just(0)))
    ]  # fmt: skip
    return {
        "meta": {"name": "fuzz", "horizon_days": draw(st.sampled_from([1, 30, 365, 3650]))},
        "nodes": nodes,
        "links": links,
        "lift_pools": pools,
        "units": units,
        "regions": regions,
        "disruptions": disruptions,
    }


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenarios())
def test_whatever_validates_runs_to_its_end_and_saves(data: dict[str, Any]) -> None:
    try:
        scenario = forcemodel.load_scenario_data(data)
    except ScenarioError as exc:
        assert exc.problems and all(p.field for p in exc.problems)
        event("refused: " + exc.problems[0].message[:60])
        return
    try:
        results = simulate(scenario)
    except UnreachableError as exc:
        assert exc.units
        event("unreachable")
        return
    event("ran: " + ", ".join(sorted(set(results.units["status"]))))
    assert results.meta["events"] <= event_bound(compile_network(scenario))
    units = results.units
    assert set(units["status"]) <= {"closed", "moving", "stranded"}
    closed = units["status"] == "closed"
    assert (units.loc[closed, "closure_day"] < float("inf")).all()
    assert (units.loc[~closed, "closure_day"] == float("inf")).all()
    with tempfile.TemporaryDirectory() as tmp:
        results.save(Path(tmp) / "out")


def _tiny_with(change: str) -> dict[str, Any]:
    from support.scenarios import tiny_raw

    data = tiny_raw()
    for u in data["units"]:
        u.pop("set_type", None)  # every unit takes the rail corridor with its own equipment
    rail = [x for x in data["links"] if x["mode"] == "rail"]
    if change == "closed":
        data["disruptions"] = [{"target": "gauge-change", "start_day": 0, "days": 36500,
                                "capacity_factor": 0.0}]  # fmt: skip
    elif change == "trickle":
        for x in rail:
            x["t_per_day"] = 1
    elif change == "crawl":
        for x in rail:
            x.update(speed_kmh=1, distance_km=40075)
    return data


def test_the_runs_that_hung_now_end_and_report_what_is_still_moving() -> None:
    """The three inputs of the issue that hung (a closure far past the horizon, a trickle of
    capacity on the only route, a crawl) end at the stop day with the units still moving."""
    for change in ("closed", "trickle", "crawl"):
        scenario = forcemodel.load_scenario_data(_tiny_with(change))
        results = simulate(scenario)
        assert results.meta["events"] <= event_bound(compile_network(scenario))
        status = dict(zip(results.units["unit"], results.units["status"], strict=True))
        assert status["mech-bde-2"] == "moving", (change, status)
        assert results.meta["units_not_closed"] >= 1


def test_a_hop_below_the_last_bit_of_the_time_to_go_is_not_lost() -> None:
    """A 10 m hop at 1,200 km/h (3.5e-7 days, no change of mode) before a leg whose uncongested
    time is about 1e14 days (a huge load on a tiny fleet): the hop vanishes in H's rounding, so
    no arc makes
    progress by H; the load still takes it (the unvisited arc with the smallest estimate) and
    goes on, instead of stopping the run with an error."""
    node = {"kind": "junction", "country": "PL", "lat": 52.0, "lon": 20.0}
    data: dict[str, Any] = {
        "meta": {"name": "rounding", "horizon_days": 10},
        "nodes": [{**node, "id": "a"}, {**node, "id": "b"}, {**node, "id": "c"}],
        "links": [
            {"from": "a", "to": "b", "mode": "air", "distance_km": 0.01, "speed_kmh": 1200},
            {
                "from": "b",
                "to": "c",
                "mode": "air",
                "pool": "tiny",
                "distance_km": 20000,
                "speed_kmh": 1,
            },
        ],
        "lift_pools": [
            {
                "id": "tiny",
                "mode": "air",
                "assets": 1,
                "payload_t": 0.01,
                "pax": 1,
                "speed_kmh": 1,
                "availability": 0.01,
            }
        ],
        "units": [
            {
                "id": "u",
                "nation": "PL",
                "type": "x",
                "personnel": 0,
                "equipment_t": 1e7,
                "outsize": False,
                "power": {"land": 1},
                "tier": 1,
                "notice_to_move_days": 0,
                "home": "a",
            }
        ],
        "regions": [{"id": "r", "reception": "c"}],
    }
    scenario = forcemodel.load_scenario_data(data)
    h = compile_network(scenario).time_to_go(2, 1, 1e7)
    assert h[0][0] == h[1][0]  # the hop is lost in the sum: a and b look equally far
    results = simulate(scenario)
    ev = results.unit_events
    assert ((ev["from"] == "a") & (ev["to"] == "b")).any()  # it moved on all the same
    assert results.units["status"].iloc[0] == "moving"
