"""The synthetic scenario generator: valid by construction, reproducible, written atomically."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import forcemodel
from forcemodel.cli import app
from forcemodel.scenario import write as scenario_write
from forcemodel.scenario.model import Scenario
from forcemodel.scenario.synthetic import synthetic_scenario
from forcemodel.scenario.write import write_scenario_folder

SIZES = [
    # units, nodes, days, regions, seed
    (0, 4, 1, 1, 0),
    (1, 4, 2, 2, 1),
    (25, 12, 30, 3, 7),
    (200, 60, 90, 4, 0),
    (600, 150, 120, 8, 42),
]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _check_structure(s: Scenario) -> None:
    """What 'valid by construction' promises beyond what the loader checks."""
    adjacent: dict[str, set[str]] = defaultdict(set)
    for lk in s.links:
        adjacent[lk.from_].add(lk.to)
        if lk.bidirectional:
            adjacent[lk.to].add(lk.from_)
    receptions = {r.reception for r in s.regions}
    for home in {u.home for u in s.units}:
        seen, todo = {home}, [home]
        while todo:
            for nxt in adjacent[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        assert receptions <= seen, f"{home} cannot reach {sorted(receptions - seen)}"
    gauges = {lk.gauge for lk in s.links if lk.mode == "rail"}
    assert gauges == {1435, 1520}
    at_node: dict[str, set[int]] = defaultdict(set)
    for lk in s.links:
        if lk.gauge is not None:
            at_node[lk.from_].add(lk.gauge)
            at_node[lk.to].add(lk.gauge)
    breaks = [n for n in s.nodes if len(at_node[n.id]) > 1]
    assert breaks and all(n.transship is not None for n in breaks)
    assert {lk.mode for lk in s.links} >= {"rail", "road", "sea", "air"}
    assert all(lk.pool is not None for lk in s.links if lk.mode in ("air", "sea"))
    assert {u.tier for u in s.units} <= {1, 2, 3}
    assert all(u.home.startswith("garrison-") for u in s.units)
    assert s.disruptions and s.threats and len(s.threats) == len(s.regions)
    stock_types = {st.set_type for st in s.stocks if st.kind == "equipment_set"}
    assert {u.set_type for u in s.units if u.set_type} <= stock_types


@pytest.mark.parametrize(("units", "nodes", "days", "regions", "seed"), SIZES)
def test_generated_scenarios_load_from_data_and_folder(
    tmp_path: Path, units: int, nodes: int, days: int, regions: int, seed: int
) -> None:
    data = synthetic_scenario(units=units, nodes=nodes, days=days, regions=regions, seed=seed)
    from_data = forcemodel.load_scenario_data(data)
    assert len(from_data.units) == units
    assert len(from_data.nodes) == nodes
    assert len(from_data.regions) == regions
    assert from_data.meta.horizon_days == days
    _check_structure(from_data)

    folder = tmp_path / "scenario"
    write_scenario_folder(data, folder)
    from_folder = forcemodel.load_scenario(folder)
    # The folder holds exactly the same scenario as the data it was written from.
    assert from_folder.digest() == from_data.digest()


def test_same_seed_same_bytes_and_different_seeds_differ(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_scenario_folder(synthetic_scenario(80, 30, 60, seed=5), a)
    write_scenario_folder(synthetic_scenario(80, 30, 60, seed=5), b)
    write_scenario_folder(synthetic_scenario(80, 30, 60, seed=6), c)
    assert _files(a) == _files(b)
    assert set(_files(a)) == {
        "scenario.yaml",
        "nodes.csv",
        "links.csv",
        "lift_pools.csv",
        "units.csv",
        "stocks.csv",
        "disruptions.csv",
    }
    differ = {name for name, text in _files(c).items() if _files(a)[name] != text}
    assert {"nodes.csv", "units.csv", "links.csv"} <= differ
    assert synthetic_scenario(80, 30, 60, seed=5) == synthetic_scenario(80, 30, 60, seed=5)
    assert synthetic_scenario(80, 30, 60, seed=5) != synthetic_scenario(80, 30, 60, seed=6)


def test_csv_uses_dotted_columns_for_nested_fields(tmp_path: Path) -> None:
    data = synthetic_scenario(10, 10, 30, regions=2)
    data["units"][0]["power"] = {"land": 0.7}
    write_scenario_folder(data, tmp_path / "s")
    nodes_header = (tmp_path / "s" / "nodes.csv").read_text().splitlines()[0].split(",")
    units_header = (tmp_path / "s" / "units.csv").read_text().splitlines()[0].split(",")
    assert {"transship.t_per_day", "transship.hours"} <= set(nodes_header)
    assert "power.land" in units_header
    s = forcemodel.load_scenario(tmp_path / "s")
    assert s.units[0].power.land == 0.7
    assert s.units[1].power == forcemodel.load_scenario_data(data).units[1].power


def test_write_replaces_an_existing_folder_only_on_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "s"
    write_scenario_folder(synthetic_scenario(20, 10, 30, seed=1), folder)
    before = _files(folder)

    # A failure while rendering: nothing on disk changes.
    bad = synthetic_scenario(20, 10, 30, seed=2)
    bad["units"][0]["name"] = ["a list cannot go into a CSV cell"]
    with pytest.raises(ValueError, match="CSV cell"):
        write_scenario_folder(bad, folder)
    assert _files(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]

    # A failure half-way through writing the files: the old folder stays, no leftovers.
    real_open = open
    calls: list[Any] = []

    def failing_open(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_open(*args, **kwargs)

    monkeypatch.setattr(scenario_write, "open", failing_open, raising=False)
    with pytest.raises(OSError, match="No space"):
        write_scenario_folder(synthetic_scenario(20, 10, 30, seed=3), folder)
    monkeypatch.undo()
    assert _files(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]

    # Success replaces the folder, files that the new scenario lacks included.
    (folder / "stray.txt").write_text("old")
    write_scenario_folder(synthetic_scenario(20, 10, 30, seed=3), folder)
    assert _files(folder) != before
    assert not (folder / "stray.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


def test_empty_tables_stay_in_the_yaml(tmp_path: Path) -> None:
    data = synthetic_scenario(0, 6, 10, regions=2)
    write_scenario_folder(data, tmp_path / "s")
    assert not (tmp_path / "s" / "units.csv").exists()
    assert forcemodel.load_scenario(tmp_path / "s").units == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"units": -1, "nodes": 10, "days": 10}, "units"),
        ({"units": 1, "nodes": 3, "days": 10}, "nodes"),
        ({"units": 1, "nodes": 5, "days": 10, "regions": 4}, "nodes"),
        ({"units": 1, "nodes": 10, "days": 10, "regions": 0}, "regions"),
        ({"units": 1, "nodes": 10, "days": 0}, "days"),
    ],
)
def test_impossible_sizes_are_refused(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        synthetic_scenario(**kwargs)


def test_cli_generate(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "gen"
    args = ["generate", str(out), "--units", "40", "--nodes", "16", "--days", "45", "--seed", "9"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    s = forcemodel.load_scenario(out)
    assert (len(s.units), len(s.nodes), s.meta.horizon_days) == (40, 16, 45)
    before = _files(out)

    # An existing folder is refused without --force, and left as it was.
    refused = runner.invoke(app, [*args[:-1], "10"])
    assert refused.exit_code == 2
    assert "--force" in refused.output
    assert _files(out) == before

    replaced = runner.invoke(app, [*args[:-1], "10", "--force"])
    assert replaced.exit_code == 0, replaced.output
    assert _files(out) != before
    assert runner.invoke(app, ["validate", str(out)]).exit_code == 0


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    size=st.integers(4, 40).flatmap(
        lambda nodes: st.tuples(
            st.integers(0, 40),
            st.just(nodes),
            st.integers(1, 200),
            st.integers(1, nodes - 2),
            st.integers(0, 2**32 - 1),
        )
    )
)
def test_generated_scenario_is_always_valid(size: tuple[int, int, int, int, int]) -> None:
    units, nodes, days, regions, seed = size
    data = synthetic_scenario(units=units, nodes=nodes, days=days, regions=regions, seed=seed)
    scenario = forcemodel.load_scenario_data(data)
    _check_structure(scenario)
    if seed % 8 == 0:  # the folder form too, now and then (it costs a few file writes)
        with tempfile.TemporaryDirectory() as tmp:
            write_scenario_folder(data, Path(tmp) / "s")
            assert forcemodel.load_scenario(Path(tmp) / "s").digest() == scenario.digest()
