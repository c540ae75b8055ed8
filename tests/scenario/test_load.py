"""Loading and validation: bundled names, files, folders with CSV tables, defaults, and every
kind of mistake reported with its file, line and field, all of them together."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import forcemodel
from forcemodel import Problem, Scenario, ScenarioError, load_scenario, load_scenario_data
from forcemodel.common.read import MAX_FILE_BYTES
from forcemodel.scenario.catalogue import builtin_catalogue
from forcemodel.scenario.model import great_circle_km
from support.scenarios import TINY_PATH, TINY_TEXT, Writer, csv_text, line_of


def problems_of(source: str | Path) -> list[Problem]:
    """The problems of a scenario that must not load."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(source)
    assert info.value.problems, "a ScenarioError without problems"
    return info.value.problems


def find(problems: list[Problem], field: str, contains: str = "") -> Problem:
    """The one problem at ``field`` whose message contains ``contains``."""
    hits = [p for p in problems if p.field == field and contains in p.message]
    assert len(hits) == 1, f"expected one problem at {field!r} ~ {contains!r}, got:\n" + "\n".join(
        map(str, problems)
    )
    return hits[0]


def edited(old: str, new: str, text: str = TINY_TEXT) -> str:
    """``text`` with ``old`` replaced; ``old`` is a regular expression if it starts with '^'.

    Regular expressions keep the tests independent of tiny's figures, which may change.
    """
    if old.startswith("^"):
        out, n = re.subn(old[1:], new, text, flags=re.MULTILINE)
        assert n == 1, f"{old!r} must match once, matched {n} times"
        return out
    assert text.count(old) == 1, f"{old!r} must occur once"
    return text.replace(old, new)


# -- loading ------------------------------------------------------------------------------------


def test_bundled_name_and_path_give_the_same_scenario() -> None:
    by_name = load_scenario("tiny")
    assert by_name.meta.name == "tiny"
    assert (len(by_name.nodes), len(by_name.links), len(by_name.units)) == (6, 7, 3)
    assert load_scenario(TINY_PATH).digest() == by_name.digest()
    assert load_scenario(str(TINY_PATH)).digest() == by_name.digest()
    assert "tiny" in forcemodel.bundled_scenarios()


def test_unknown_name_suggests_a_bundled_one() -> None:
    (p,) = problems_of("tiyn")
    assert p.file == "tiyn" and p.line is None
    assert "did you mean 'tiny'" in p.message


def test_folder_with_csv_tables_equals_the_yaml_file(
    write: Writer, tiny_data: dict[str, Any]
) -> None:
    folder = write.folder(tiny_data)
    assert (folder / "nodes.csv").exists() and "nodes" not in (folder / "scenario.yaml").read_text()
    scenario = load_scenario(folder)
    assert scenario.digest() == load_scenario("tiny").digest()
    # Dotted columns become nested fields.
    header = (folder / "nodes.csv").read_text().splitlines()[0]
    assert "transship.t_per_day" in header
    assert scenario.node("gauge-change").transship is not None
    assert scenario.node("gauge-change").transship.t_per_day == 8000


def test_csv_named_in_the_yaml_and_dotted_power_column(
    write: Writer, tiny_data: dict[str, Any]
) -> None:
    units = tiny_data.pop("units")
    units[1]["power"] = {"land": 0.5, "fires": 0.25}
    folder = write.folder(tiny_data)
    (folder / "forces.csv").write_text(csv_text(units))
    (folder / "scenario.yaml").write_text(
        (folder / "scenario.yaml").read_text() + "units: forces.csv\n"
    )
    s = load_scenario(folder)
    mech = s.units[1]
    assert (mech.power.land, mech.power.fires) == (0.5, 0.25)
    assert mech.personnel == 4000  # the rest still from the catalogue


def test_catalogue_defaults_are_filled(write: Writer, tiny_data: dict[str, Any]) -> None:
    s = load_scenario("tiny")
    cat = builtin_catalogue()
    mech = next(u for u in s.units if u.id == "mech-bde-2")
    expected = cat.unit_types["mechanised_brigade"]
    assert (mech.personnel, mech.equipment_t, mech.outsize, mech.power) == (
        expected.personnel,
        expected.equipment_t,
        expected.outsize,
        expected.power,
    )
    tier2 = next(t for t in cat.tiers if t.tier == 2)
    assert mech.notice_to_move_days == tier2.notice_to_move_days
    armd = next(u for u in s.units if u.id == "armd-bde-1")
    assert armd.notice_to_move_days == 3  # given, not the tier's
    lt = s.regions[0].in_place[0]
    assert lt.personnel == cat.unit_types["infantry_brigade"].personnel
    # A link without a distance or speed: great-circle distance times the mode's circuity.
    link = tiny_data["links"][1]
    del link["distance_km"], link["speed_kmh"]
    s2 = load_scenario(write.yaml(tiny_data))
    a, b = s2.node("garrison-a"), s2.node("depot-p")
    rail = cat.modes["rail"]
    assert s2.links[1].distance_km == pytest.approx(
        great_circle_km(a.lat, a.lon, b.lat, b.lon) * rail.circuity
    )
    assert s2.links[1].speed_kmh == rail.speed_kmh
    assert s2.links[1].id == "garrison-a_depot-p_rail"


def test_own_tiers_and_unit_types_override_the_catalogue(
    write: Writer, tiny_data: dict[str, Any]
) -> None:
    tiny_data["tiers"] = [
        {"tier": 1, "notice_to_move_days": 2},
        {"tier": 2, "notice_to_move_days": 9},
    ]
    tiny_data["unit_types"] = {
        "mechanised_brigade": {
            "personnel": 3000,
            "equipment_t": 1,
            "power": {"land": 0.7},
            "source": "test",
        }
    }
    s = load_scenario(write.yaml(tiny_data))
    mech = s.units[1]
    assert (mech.personnel, mech.notice_to_move_days, mech.power.land) == (3000, 9, 0.7)


def test_load_scenario_data_takes_python_data(tiny_data: dict[str, Any]) -> None:
    assert load_scenario_data(tiny_data).digest() == load_scenario("tiny").digest()
    tiny_data["units"][0]["home"] = "nowhere"
    with pytest.raises(ScenarioError) as info:
        load_scenario_data(tiny_data, label="api")
    (p,) = info.value.problems
    assert (p.file, p.line, p.field) == ("api", None, "units[0].home")


# -- the scenario object ------------------------------------------------------------------------


def test_scenario_is_immutable() -> None:
    s = load_scenario("tiny")
    with pytest.raises(ValidationError):
        s.meta.name = "changed"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        s.nodes[0].lat = 0.0  # type: ignore[misc]
    with pytest.raises(ValidationError):
        s.units = ()  # type: ignore[misc]
    assert isinstance(s.nodes, tuple) and isinstance(s.regions[0].in_place, tuple)
    with pytest.raises(AttributeError):
        s.nodes.append(s.nodes[0])  # type: ignore[attr-defined]


def test_digest_is_stable_and_tracks_content(write: Writer, tiny_data: dict[str, Any]) -> None:
    a, b = load_scenario("tiny"), load_scenario("tiny")
    assert a.digest() == b.digest()
    assert len(a.digest()) == 64 and int(a.digest(), 16) >= 0
    assert isinstance(a, Scenario)
    tiny_data["units"][0]["notice_to_move_days"] = 4
    assert load_scenario(write.yaml(tiny_data)).digest() != a.digest()


# -- files that are not scenarios ---------------------------------------------------------------


def test_malformed_yaml(write: Writer) -> None:
    text = edited("  - {id: airbase-a,", "  - {id: airbase-a: x,")
    path = write.text(text)
    (p,) = problems_of(path)
    assert (p.file, p.line) == (str(path), line_of(text, "airbase-a: x"))
    assert "YAML syntax error" in p.message and "column" in p.message


@pytest.mark.parametrize("text", ["", "   \n\n", "# only a comment\n"])
def test_empty_file(write: Writer, text: str) -> None:
    (p,) = problems_of(write.text(text))
    assert "empty" in p.message


def test_binary_file(write: Writer) -> None:
    (p,) = problems_of(write.text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
    assert "binary" in p.message


def test_not_utf8_is_located(write: Writer) -> None:
    (p,) = problems_of(write.text("meta:\n  name: t\n  description: caf\xe9\n".encode("latin-1")))
    assert p.line == 3 and "UTF-8" in p.message


def test_huge_file_refused_without_reading(write: Writer) -> None:
    path = write.fresh() / "huge.yaml"
    with path.open("wb") as f:
        f.truncate(2**30)  # sparse: takes no disk space
    (p,) = problems_of(path)
    assert "MiB" in p.message and str(MAX_FILE_BYTES // 2**20) in p.message


def test_folder_without_scenario_yaml(write: Writer) -> None:
    folder = write.fresh()
    (p,) = problems_of(folder)
    assert p.file.endswith("scenario.yaml") and "cannot read" in p.message


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n"])
def test_top_level_not_a_mapping(write: Writer, text: str) -> None:
    (p,) = problems_of(write.text(text))
    assert p.line == 1 and "mapping" in p.message


def test_tabs_and_bad_indentation(write: Writer) -> None:
    text = edited("^  horizon_days:", "\thorizon_days:")
    (p,) = problems_of(write.text(text))
    assert p.line == line_of(text, "\thorizon_days") and "tab" in p.message
    text = edited("^  horizon_days:", "   horizon_days:")
    (p,) = problems_of(write.text(text))
    assert p.line == line_of(text, "   horizon_days") and "YAML syntax error" in p.message


def test_deep_nesting_is_refused_not_a_crash(write: Writer) -> None:
    # libyaml's composer recurses in C: 100,000 levels once crashed the interpreter.
    n = 100_000
    (p,) = problems_of(write.text("meta: " + "[" * n + "]" * n))
    assert p.line == 1 and "nested more than" in p.message
    (p,) = problems_of(write.text("meta:\n" + "- " * n + "x\n"))
    assert p.line == 2 and "nested more than" in p.message


def test_alias_bomb_is_refused(write: Writer) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    problems = problems_of(write.text("\n".join(lines) + "\nmeta: {name: t}\n"))
    assert any("too many values" in p.message and p.line is not None for p in problems)


@pytest.mark.parametrize("value", ["!!python/name:os.system x", "!!int abc", "!!float abc"])
def test_unreadable_tags_are_located(write: Writer, value: str) -> None:
    problems = problems_of(write.text(f"meta:\n  name: t\n  horizon_days: {value}\n"))
    assert all(p.line is not None for p in problems)
    p = find(problems, "meta.horizon_days", "cannot read")
    assert p.line == 3


def test_multiple_documents(write: Writer) -> None:
    (p,) = problems_of(write.text("meta: {name: a}\n---\nmeta: {name: b}\n"))
    assert p.line == 2


# -- YAML quirks --------------------------------------------------------------------------------


def test_yaml_quirks_norway_dates_yes(write: Writer) -> None:
    text = edited("nation: PL", "nation: NO")
    text = edited('date: "2024-10-10"', "date: 2024-10-10", text)
    text = edited("description: One rail", "description: yes One rail", text)
    s = load_scenario(write.text(text))
    assert s.units[1].nation == "NO"
    assert s.meta.sources[0].date == "2024-10-10"
    text = edited("^(id: depot-p, kind: depot, country: )PL", r"\g<1>NO")
    assert load_scenario(write.text(text)).node("depot-p").country == "NO"
    text = edited("  name: tiny", "  name: tiny\n  description: no")
    text = edited("  description: One rail", "  #", text)
    assert load_scenario(write.text(text)).meta.description == "no"


def test_duplicate_yaml_key_is_reported(write: Writer) -> None:
    text = edited("^(  horizon_days: .*)$", r"\1\n  horizon_days: 61")
    path = write.text(text)
    (p,) = problems_of(path)
    assert (p.file, p.line, p.field) == (
        str(path),
        line_of(text, "horizon_days: 61"),
        "meta.horizon_days",
    )
    assert "duplicate key" in p.message


# -- located mistakes in YAML -------------------------------------------------------------------

#: (edit of tiny.yaml, text on the line expected, field, words of the message)
YAML_CASES = [
    pytest.param(
        ("^horizon_days:", "horizon_dayz:"),
        "horizon_dayz",
        "meta.horizon_dayz",
        "did you mean 'horizon_days'",
        id="typo-key",
    ),
    pytest.param(
        ("\nnodes:\n", "\nnode:\n"),
        "node:",
        "node",
        "unknown section (did you mean 'nodes'",
        id="typo-section",
    ),
    pytest.param(
        ("to: airbase-a, mode: road", "to: airbase-x, mode: road"),
        "airbase-x",
        "links[0].to",
        "unknown node 'airbase-x' (did you mean 'airbase-a'",
        id="link-unknown-node",
    ),
    pytest.param(
        ("pool: airlift", "pool: sealift"),
        "pool: sealift",
        "links[5].pool",
        "unknown lift pool 'sealift'",
        id="link-unknown-pool",
    ),
    pytest.param(
        ("assigned_to: lithuania, set_type", "assigned_to: latvia, set_type"),
        "assigned_to: latvia",
        "units[0].assigned_to",
        "unknown region 'latvia'",
        id="unit-unknown-region",
    ),
    pytest.param(
        ("^(id: mech-bde-2, .*home: )garrison-a", r"\g<1>garrison-b"),
        "mech-bde-2",
        "units[1].home",
        "unknown node 'garrison-b'",
        id="unit-unknown-home",
    ),
    pytest.param(
        ("^(assigned_to: lithuania, set_type: )armoured_brigade", r"\g<1>airborne_brigade"),
        "set_type: airborne_brigade",
        "units[0].set_type",
        "no stock provides set type 'airborne_brigade'",
        id="set-type-without-stock",
    ),
    pytest.param(
        ("depot: depot-p", "depot: depot-q"),
        "powidz-set",
        "stocks[0].depot",
        "unknown node 'depot-q'",
        id="stock-unknown-depot",
    ),
    pytest.param(
        ("reception: assembly-lt", "reception: assembly-lv"),
        "reception",
        "regions[0].reception",
        "unknown node 'assembly-lv'",
        id="region-unknown-reception",
    ),
    pytest.param(
        ("{region: lithuania,", "{region: latvia,"),
        "region: latvia",
        "threats[0].region",
        "unknown region 'latvia'",
        id="threat-unknown-region",
    ),
    pytest.param(
        ("target: gauge-change", "target: gauge-chnage"),
        "bridge-sabotage",
        "disruptions[0].target",
        "unknown link or node 'gauge-chnage' (did you mean 'gauge-change'",
        id="disruption-unknown-target",
    ),
    pytest.param(
        ("id: airbase-a", "id: depot-p"),
        "id: depot-p, kind: depot",
        "nodes[2].id",
        "duplicate id 'depot-p' (first at ",
        id="duplicate-id",
    ),
    pytest.param(
        ("^(from: gauge-change, to: assembly-lt, .*t_per_day: )[0-9.]+", r"\g<1>-6000"),
        "t_per_day: -6000",
        "links[3].t_per_day",
        "greater than or equal to 0",
        id="negative-capacity",
    ),
    pytest.param(
        ("^(from: gauge-change, to: assembly-lt, .*t_per_day: )[0-9.]+", r"\g<1>.nan"),
        "t_per_day: .nan",
        "links[3].t_per_day",
        "finite number",
        id="nan-capacity",
    ),
    pytest.param(
        ("^(from: gauge-change, to: assembly-lt, .*t_per_day: )[0-9.]+", r"\g<1>.inf"),
        "t_per_day: .inf",
        "links[3].t_per_day",
        "finite number",
        id="inf-capacity",
    ),
    pytest.param(
        ("^assets: [0-9]+", "assets: -1"),
        "assets: -1",
        "lift_pools[0].assets",
        "greater than or equal to 1",
        id="negative-assets",
    ),
    pytest.param(
        ("^(requirement:\n +land: ).*$", r"\g<1>[[0, 2], [30, 3], [10, 4]]"),
        "requirement:",
        "regions[0].requirement",
        "land: days must be strictly increasing, got day 10 after day 30",
        id="requirement-days-out-of-order",
    ),
    pytest.param(
        ("^transship: \\{[^}]*\\}", "source: none"),
        "id: gauge-change",
        "nodes[4].transship",
        "rail gauges 1435, 1520 meet at 'gauge-change'",
        id="gauge-break-without-transshipment",
    ),
    pytest.param(
        ("gauge: 1520", "gauge: 1000"),
        "gauge: 1000",
        "links[3]",
        "a rail link needs a gauge",
        id="unknown-gauge",
    ),
    pytest.param(
        ("^(id: mech-bde-2, .*tier: )[0-9]", r"\g<1>7"),
        "mech-bde-2",
        "units[1].tier",
        "tier 7 is not defined",
        id="undefined-tier",
    ),
    pytest.param(
        ("^(id: mech-bde-2, .*tier: )[0-9]", r"\g<1>.inf"),
        "mech-bde-2",
        "units[1].tier",
        "finite number",
        id="infinite-tier",
    ),
    pytest.param(
        ("type: mechanised_brigade", "type: mechanized_brigade"),
        "mech-bde-2",
        "units[1].type",
        "unknown unit type 'mechanized_brigade' (did you mean 'mechanised_brigade'",
        id="unknown-unit-type",
    ),
    pytest.param(
        ("^warning_day: [0-9.]+", "warning_day: 3651"),
        "warning_day: 3651",
        "meta.warning_day",
        "after the horizon",
        id="warning-after-horizon",
    ),
    pytest.param(
        ("  name: tiny\n", ""),
        "meta:",
        "meta.name",
        "required field is missing",
        id="missing-required-field",
    ),
    pytest.param(
        ("^(id: assembly-lt, .*lat: )[0-9.]+", r"\g<1>154.9"),
        "lat: 154.9",
        "nodes[5].lat",
        "less than or equal to 90",
        id="latitude-out-of-range",
    ),
    pytest.param(
        ("^(id: garrison-a, kind: garrison, country: )DE", r"\g<1>Germany"),
        "Germany",
        "nodes[0].country",
        "country code",
        id="country-not-a-code",
    ),
]


@pytest.mark.parametrize(("edit", "on_line", "field", "words"), YAML_CASES)
def test_yaml_mistake_is_located(
    write: Writer, edit: tuple[str, str], on_line: str, field: str, words: str
) -> None:
    text = edited(*edit)
    path = write.text(text)
    problems = problems_of(path)
    p = find(problems, field, words)
    assert p.file == str(path)
    assert p.line == line_of(text, on_line), str(p)
    assert str(p).startswith(f"{path}:{p.line}: {field}: ")


def test_all_problems_of_a_file_are_reported_together(write: Writer) -> None:
    text = edited(
        "^(from: garrison-a, to: )depot-p(, mode: rail, .*t_per_day: )[0-9.]+", r"\1depot-x\2-5"
    )
    text = edited("^horizon_days:", "horizon_dayz:", text)
    text = edited("^(id: mech-bde-2, .*home: )garrison-a", r"\g<1>garrison-z", text)
    text = edited("type: air_defence_battalion", "type: air_defense_battalion", text)
    text = edited("{region: lithuania,", "{region: latvia,", text)
    text = edited("^(id: assembly-lt, .*lat: )[0-9.]+", r"\g<1>.nan", text)
    path = write.text(text)
    problems = problems_of(path)
    expected = {
        ("meta.horizon_dayz", "horizon_dayz"),
        ("links[1].t_per_day", "depot-x"),
        ("links[1].to", "depot-x"),  # checked although the link itself is invalid
        ("units[1].home", "garrison-z"),
        ("units[2].type", "air_defense_battalion"),
        ("threats[0].region", "region: latvia"),
        ("nodes[5].lat", "lat: .nan"),
    }
    got = {(p.field, p.line) for p in problems}
    for field, on_line in expected:
        assert (field, line_of(text, on_line)) in got, (field, "\n".join(map(str, problems)))
    assert len(problems) == len(expected), "\n".join(map(str, problems))
    assert problems == sorted(problems, key=lambda p: (p.file, p.line or 0, p.field, p.message))
    assert all(p.file == str(path) for p in problems)


def test_unknown_unit_type_still_checks_references(write: Writer) -> None:
    text = edited(
        "^(id: mech-bde-2, .*type: )mechanised_brigade(.*home: )garrison-a", r"\1cavalry\2castle"
    )
    problems = problems_of(write.text(text))
    find(problems, "units[1].type", "unknown unit type 'cavalry'")
    find(problems, "units[1].home", "unknown node 'castle'")


def test_a_reference_to_an_invalid_item_is_not_reported_twice(write: Writer) -> None:
    # The node is invalid (bad country); links to it must not also say "unknown node".
    text = edited("^(id: airbase-a, kind: airfield, country: )DE", r"\g<1>XXX")
    problems = problems_of(write.text(text))
    assert [p.field for p in problems] == ["nodes[1].country"]


# -- located mistakes in CSV tables -------------------------------------------------------------


@pytest.fixture
def folder(write: Writer, tiny_data: dict[str, Any]) -> Path:
    return write.folder(tiny_data)


def _edit_csv(path: Path, old: str, new: str) -> str:
    text = edited(old, new, path.read_text())
    path.write_text(text)
    return text


def test_csv_missing_column_reported_once(folder: Path) -> None:
    nodes = folder / "nodes.csv"
    rows = [r.split(",") for r in nodes.read_text().splitlines()]
    col = rows[0].index("kind")
    nodes.write_text("\n".join(",".join(r[:col] + r[col + 1 :]) for r in rows) + "\n")
    problems = problems_of(folder)
    p = find(problems, "kind", "required column is missing")
    assert (p.file, p.line) == (str(nodes), 1)
    assert len(problems) == 1, "one message for the column, not one per row"


def test_csv_unknown_column(folder: Path) -> None:
    nodes = folder / "nodes.csv"
    _edit_csv(nodes, "^^(.*)\\bkind\\b", r"\1kindd")
    problems = problems_of(folder)
    p = find(problems, "kindd", "unknown column (did you mean 'kind'")
    assert (p.file, p.line) == (str(nodes), 1)


def test_csv_bad_value_located_at_its_row(write: Writer, tiny_data: dict[str, Any]) -> None:
    tiny_data["links"][3]["t_per_day"] = -1
    folder = write.folder(tiny_data)
    links = folder / "links.csv"
    problems = problems_of(folder)
    p = find(problems, "links[3].t_per_day", "greater than or equal to 0")
    assert (p.file, p.line) == (str(links), 5)
    assert ",-1" in links.read_text().splitlines()[4]


def test_csv_dangling_reference_and_duplicate_id(write: Writer, tiny_data: dict[str, Any]) -> None:
    tiny_data["units"][1].update(id="armd-bde-1", home="garrison-q")
    folder = write.folder(tiny_data)
    units = folder / "units.csv"
    text = units.read_text()
    problems = problems_of(folder)
    dup = find(problems, "units[1].id", "duplicate id 'armd-bde-1'")
    assert (dup.file, dup.line) == (str(units), line_of(text, "garrison-q"))
    assert f"first at {units}:2" in dup.message
    home = find(problems, "units[1].home", "unknown node 'garrison-q'")
    assert (home.file, home.line) == (str(units), line_of(text, "garrison-q"))


def test_csv_row_with_extra_cells(folder: Path) -> None:
    stocks = folder / "stocks.csv"
    lines = stocks.read_text().splitlines()
    stocks.write_text("\n".join([*lines[:1], lines[1] + ",surplus"]) + "\n")
    p = find(problems_of(folder), "stocks[0]", "row has")
    assert (p.file, p.line) == (str(stocks), 2)


def test_csv_row_spanning_lines_is_located_at_its_start(
    write: Writer, tiny_data: dict[str, Any]
) -> None:
    tiny_data["nodes"][0]["name"] = "Home\ngarrison"  # a quoted cell over two lines
    tiny_data["nodes"][5]["lat"] = 94.9
    folder = write.folder(tiny_data)
    text = (folder / "nodes.csv").read_text()
    assert '"Home\ngarrison"' in text
    p = find(problems_of(folder), "nodes[5].lat")
    assert p.line == line_of(text, "assembly-lt")


def test_csv_dotted_column_conflict(folder: Path) -> None:
    nodes = folder / "nodes.csv"
    _edit_csv(nodes, "^^(.*transship.hours.*)$", r"\1,transship")
    p = find(problems_of(folder), "transship.hours", "conflicts with column 'transship'")
    assert (p.file, p.line) == (str(nodes), 1)


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "empty"), (b"id,kind\x00\x01", "binary"), (b"id,kind\n\xff\xfe,x\n", "UTF-8")],
)
def test_csv_not_a_table(folder: Path, content: bytes, words: str) -> None:
    (folder / "nodes.csv").write_bytes(content)
    problems = problems_of(folder)
    assert any(p.file == str(folder / "nodes.csv") and words in p.message for p in problems)


def test_csv_named_in_yaml_but_missing(folder: Path) -> None:
    (folder / "links.csv").unlink()
    yaml_file = folder / "scenario.yaml"
    text = yaml_file.read_text() + "links: legs.csv\n"
    yaml_file.write_text(text)
    p = find(problems_of(folder), "links", "no CSV file 'legs.csv'")
    assert (p.file, p.line) == (str(yaml_file), line_of(text, "links: legs.csv"))


def test_table_given_as_text_that_is_not_a_csv_name(write: Writer) -> None:
    text = edited("\nnodes:\n", "\nnodes: everywhere\nplaces:\n")
    problems = problems_of(write.text(text))
    p = find(problems, "nodes", "must be a list")
    assert p.line == line_of(text, "nodes: everywhere")


def test_problems_are_strings_with_location() -> None:
    p = Problem("a.yaml", 3, "nodes[0].id", "bad")
    assert str(p) == "a.yaml:3: nodes[0].id: bad"
    assert str(Problem("a.yaml", None, "", "empty")) == "a.yaml: empty"
    err = ScenarioError([Problem("b", 2, "x", "m"), Problem("a", 9, "y", "n")])
    assert [q.file for q in err.problems] == ["a", "b"]
    assert "2 problems" in str(err) and isinstance(err, ValueError)
    many = ScenarioError([Problem("f", i, "x", "m") for i in range(25)])
    assert "... and 5 more" in str(many)


def test_non_finite_numbers_in_any_numeric_field(write: Writer, tiny_data: dict[str, Any]) -> None:
    tiny_data["lift_pools"][0]["payload_t"] = math.inf
    tiny_data["stocks"][0]["draw_days"] = math.nan
    tiny_data["regions"][0]["rsom"]["days"] = -math.inf
    problems = problems_of(write.yaml(tiny_data))
    fields = {p.field for p in problems}
    assert {"lift_pools[0].payload_t", "stocks[0].draw_days", "regions[0].rsom.days"} <= fields
    assert all(p.line is not None for p in problems)


def test_a_disruption_needs_a_capacity_to_cut(write: Writer, tiny_data: dict[str, Any]) -> None:
    # A disruption cuts capacities: on an unlimited link or node it would silently do nothing.
    tiny_data["disruptions"].append(
        {"target": "assembly-lt", "start_day": 5, "days": 3, "capacity_factor": 0.0}
    )
    path = write.yaml(tiny_data)
    p = find(problems_of(path), "disruptions[1].target", "no capacity for the disruption to cut")
    assert "node 'assembly-lt'" in p.message and p.line is not None
    # A link or node with any capacity (here the gauge break's transshipment) can be cut.
    tiny_data["disruptions"][1]["target"] = "gauge-change"
    assert len(load_scenario(write.yaml(tiny_data)).disruptions) == 2
