"""The three everyday tasks of issue 16, done as an analyst would: through the command line only.

Each test asserts what the analyst needs to read, as relations and statements, not numbers
(the simulation's rules may change; the answers' form must not):

- halve the gauge-break transshipment at Šeštokai: a changed closure, or the plain statement
  that the element carried nothing;
- add a German armoured brigade pre-assigned to Lithuania: which units closed later and why;
- cut the Suwałki crossings for 20 days from day 5: Lithuania's later land closure in the
  comparison's headline.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from forcemodel.cli import app

runner = CliRunner()
GAUGE_BREAK = "lt-sestokai"
CROSSINGS = ("pl-budzisko_lt-kaunas_road", "pl-trakiszki_lt-mockava_rail")


def cli(*args: str, status: int = 0) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == status, f"{args}: {result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def today(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("runs") / "today"
    cli("simulate", "eastern-flank", "--out", str(folder), "-q")
    return folder


def test_halving_the_gauge_break_transshipment(today: Path, tmp_path: Path) -> None:
    # Find the node and its current capacity without pandas.
    paths = cli("scenario", "paths", "eastern-flank", "--search", f"{GAUGE_BREAK}.transship")
    current = re.search(rf"nodes\.{GAUGE_BREAK}\.transship\.t_per_day=(\S+)", paths.stdout)
    assert current, paths.stdout
    half = float(current.group(1)) / 2
    halved = tmp_path / "halved"
    cli(
        "simulate", "eastern-flank", "--out", str(halved), "-q",
        "--set", f"nodes.{GAUGE_BREAK}.transship.t_per_day={half:g}",
    )  # fmt: skip
    doc = json.loads(cli("compare", str(today), str(halved), "--format", "json").stdout)
    changes = doc["changes"]
    assert [c["path"] for c in changes] == [f"nodes.{GAUGE_BREAK}.transship.t_per_day"]
    closure_moved = any(r["closure_day_diff"] not in (0, None) for r in doc["capabilities"]) or any(
        r["shortfall_bde_days_diff"] for r in doc["regions"]
    )
    carried_nothing = "carried nothing in either run" in changes[0]["note"]
    # Either the change shows in the results, or the comparison says plainly why it cannot.
    assert closure_moved or carried_nothing
    if carried_nothing:
        assert changes[0]["load_a"] == 0 and changes[0]["load_b"] == 0
        table = cli("compare", str(today), str(halved)).stdout
        words = " ".join(table.split())
        assert f"the transshipment at {GAUGE_BREAK} carried nothing in either run" in words


def test_adding_a_german_armoured_brigade_pre_assigned_to_lithuania(
    today: Path, tmp_path: Path
) -> None:
    flank = tmp_path / "my-flank"
    cli("scenario", "copy", "eastern-flank", str(flank))
    units = flank / "units.csv"
    header = units.read_text(encoding="utf-8").splitlines()[0].split(",")
    row = dict.fromkeys(header, "")
    row.update(
        id="de-pzbrig45", name="Panzerbrigade 45", nation="DE", type="armoured_brigade",
        tier="1", notice_to_move_days="10", home="de-augustdorf", assigned_to="lithuania",
        source="the analyst's assumption",
    )  # fmt: skip
    with units.open("a", encoding="utf-8") as f:
        f.write(",".join(row[h] for h in header) + "\n")
    cli("validate", str(flank))
    diff = cli("scenario", "diff", "eastern-flank", str(flank), status=1)
    assert "units.de-pzbrig45: added" in diff.stdout
    more = tmp_path / "more"
    cli("simulate", str(flank), "--out", str(more), "-q")
    doc = json.loads(
        cli(
            "explain", str(more), "--against", str(today), "--region", "lithuania",
            "--format", "json",
        ).stdout
    )  # fmt: skip
    moved = {m["unit"]: m for m in doc["moved"]}
    assert moved["de-pzbrig45"]["why"] == "not in today's scenario"
    words = " ".join(doc["statements"])
    assert "unit de-pzbrig45 closes in this region only in more" in words
    # Which units closed later (or elsewhere) and why: every moved unit has its reason, and
    # when land closes later the statements name the units behind it.
    for m in doc["moved"]:
        assert m["why"], m
    land = next(c for c in doc["capabilities"] if c["capability"] == "land")
    later_land = re.search(r"lithuania land closes (\d+) days? later in more", words)
    if later_land:
        gone = [u for u, m in moved.items() if m["closure_b"] is None]
        later = [u for u, m in moved.items() if m["diff"] is not None and m["diff"] > 0]
        assert gone or later
        assert any(f"unit {u} closes" in words for u in gone + later)
        assert all("goes to" in moved[u]["why"] for u in gone)
    assert land["closure_day"] is not None
    assert doc["deciding"] and "decides it" in words


def test_cutting_the_suwalki_crossings_for_20_days_from_day_5(today: Path, tmp_path: Path) -> None:
    near = json.loads(
        cli(
            "list", "links", "eastern-flank", "--search", "lt-", "--country", "PL",
            "--format", "json",
        ).stdout
    )  # fmt: skip
    crossings = [r["id"] for r in near if r["id"] in CROSSINGS]
    assert sorted(crossings) == sorted(CROSSINGS)
    settings = []
    for n, link in enumerate(crossings):
        settings += [
            "--set",
            f"disruptions.suwalki-{n}={{target: {link}, start_day: 5, days: 20, "
            "capacity_factor: 0, cause: sabotage}",
        ]
    cut = tmp_path / "cut"
    cli("simulate", "eastern-flank", "--out", str(cut), "-q", *settings)
    result = cli("compare", str(today), str(cut), "--labels", "today,cut")
    text = result.stdout
    headline = text[text.index("Headline:") : text.index("Closure day by region")]
    lines = [" ".join(line.split()) for line in headline.splitlines()[1:] if line.strip()]
    # A capability of Lithuania closes later, and the headline says so, however many days the
    # rules of the day make it (under the movement profiles and the road-march limit it is
    # its air defence, and a window of vulnerability opens; its land forces come by other
    # routes).
    later = [
        int(m.group(1))
        for line in lines
        if line.startswith("lithuania ")
        and (m := re.search(r"closes (\d+) days? later in cut", line)) is not None
    ]
    assert later, lines
    days = max(later)
    assert days >= 5
    # The overall closure day moves by no more: the headline is where the land delay shows.
    doc = json.loads(cli("compare", str(today), str(cut), "--format", "json").stdout)
    lt = next(r for r in doc["regions"] if r["region"] == "lithuania")
    assert lt["closure_day_diff"] <= days
    assert text.index("What changed") < text.index("Headline:")
    for link in crossings:
        assert f"target={link}" in text
    why = cli("explain", str(cut), "--against", str(today), "--region", "lithuania").stdout
    assert any(link in why for link in crossings)
