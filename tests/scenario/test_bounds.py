"""Strict types and physical bounds: a quoted number or an impossible figure is refused with
its file, line and field (docs/scenario-format.md, "Bounds")."""

from __future__ import annotations

from pathlib import Path

import pytest

from forcemodel import ScenarioError, load_scenario
from support.scenarios import TINY_TEXT, Writer, line_of


def problems(tmp_path: Path, old: str, new: str) -> list[str]:
    assert TINY_TEXT.count(old) == 1, old
    path = Writer(tmp_path).text(TINY_TEXT.replace(old, new))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ("t_per_day: 2500}", 't_per_day: "2500"}', "t_per_day", "not the text '2500'"),
        ("horizon_days: 60", 'horizon_days: "60"', "horizon_days", "not the text"),
        ("bridge-sabotage, target: gauge-change, start_day: 12", "bridge-sabotage, target: "
         'gauge-change, start_day: "12"', "start_day", "not the text"),
        ("outsize: false", 'outsize: "no"', "outsize", "true or false"),
    ],
)  # fmt: skip
def test_quoted_numbers_are_refused_in_yaml(
    tmp_path: Path, old: str, new: str, field: str, words: str
) -> None:
    found = problems(tmp_path, old, new)
    line = line_of(TINY_TEXT, old)
    assert any(f":{line}:" in p and field in p and words in p for p in found), found


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("distance_km: 600, speed_kmh: 25, t_per_day: 2500", "distance_km: 600, speed_kmh: 1e-300, "
         "t_per_day: 2500", "speed_kmh"),
        ("distance_km: 600, speed_kmh: 25, t_per_day: 2500", "distance_km: 600, speed_kmh: 1e15, "
         "t_per_day: 2500", "speed_kmh"),
        ("distance_km: 600, speed_kmh: 25, t_per_day: 2500", "distance_km: 1e-15, speed_kmh: 25, "
         "t_per_day: 2500", "distance_km"),
        ("speed_kmh: 25, t_per_day: 2500", "speed_kmh: 25, t_per_day: 1e-6", "t_per_day"),
        ("start_day: 12, days: 3,", "start_day: 12, days: 1e12,", "days"),
        ("tier: 2, home: garrison-a,", "tier: 2, home: garrison-a, personnel: 1e30,", "personnel"),
        ("pax_per_day: 5000}\n  - {id: depot-p", "pax_per_day: 0.001}\n  - {id: depot-p",
         "pax_per_day"),
        ("transship: {t_per_day: 8000, hours: 24}", "transship: {t_per_day: 8000, hours: 1e9}",
         "hours"),
    ],
)  # fmt: skip
def test_physical_bounds_are_enforced_with_the_line(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    found = problems(tmp_path, old, new)
    line = line_of(TINY_TEXT, old.split("\n")[0])
    assert any(f":{line}:" in p and field in p for p in found), found


def test_numbers_in_csv_cells_are_still_read(tmp_path: Path) -> None:
    from support.scenarios import tiny_raw

    folder = Writer(tmp_path).folder(tiny_raw())
    assert load_scenario(folder).digest() == load_scenario("tiny").digest()


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ("tier: 2, home: garrison-a,", "tier: 2, home: garrison-a, max_road_march_km: 0.5,",
         "max_road_march_km", "greater than or equal to 1"),
        ("tier: 2, home: garrison-a,", "tier: 2, home: garrison-a, profile: boat,",
         "profile", "army"),
        ("reception: assembly-lt", "reception: assembly-lt\n    port: {node: harbour}",
         "port.node", "unknown node 'harbour'"),
        ("lon: 10.2, pax_per_day: 5000}", "lon: 10.2, pax_per_day: 5000, transfer: {air: "
         "{t_per_day: 0.2}}}", "transfer.air.t_per_day", "greater than or equal to 1"),
        ("lon: 10.2, pax_per_day: 5000}", "lon: 10.2, pax_per_day: 5000, transfer: {boat: "
         "{hours: 2}}}", "transfer.boat", "rail"),
        ("reception: assembly-lt", "reception: assembly-lt\n    air_base: {node: airfield-p, "
         "pax_per_day: 0.5}", "air_base.pax_per_day", "greater than or equal to 1"),
    ],
)  # fmt: skip
def test_profile_fields_are_checked_with_the_line(
    tmp_path: Path, old: str, new: str, field: str, words: str
) -> None:
    """The movement-profile fields (docs/scenario-format.md): a road march of at least 1 km, a
    known profile, a port or air base at a known node with a physical capacity."""
    found = problems(tmp_path, old, new)
    line = line_of(TINY_TEXT, old)
    hits = [p for p in found if field in p and words in p]
    assert hits, found
    assert any(f":{line}:" in p or f":{line + 1}:" in p for p in hits), found


def test_profile_fields_resolve_from_the_catalogue() -> None:
    """A unit takes its type's profile and road-march limit unless it gives its own."""
    s = load_scenario("eastern-flank")
    by_type = {u.type: u for u in s.units}
    assert by_type["naval_task_group"].profile == "ship"
    assert by_type["fighter_squadron"].profile == "aircraft"
    assert by_type["armoured_brigade"].max_road_march_km == 150
    assert by_type["infantry_brigade"].max_road_march_km is None
    assert all(r.air_base is not None for r in s.regions)
