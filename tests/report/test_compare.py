"""compare: two runs side by side; the differences are the assessments' differences (B - A)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from forcemodel import Results, assess, load_scenario_data, simulate
from forcemodel.assessment import Comparison, check_labels, compare, default_labels, tier_table
from forcemodel.cli import app
from support.scenarios import tiny_raw, tiny_with_poland

runner = CliRunner()


def _run(raw: dict[str, Any]) -> Results:
    return simulate(load_scenario_data(raw))


def _without_sets() -> dict[str, Any]:
    """tiny with no unit falling in on the pre-positioned set."""
    raw = tiny_raw()
    for unit in raw["units"]:
        unit.pop("set_type", None)
    return raw


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Saved results of tiny, tiny without the pre-positioned set, tiny with a second region."""
    root = tmp_path_factory.mktemp("compare")
    return {
        "today": _run(tiny_raw()).save(root / "today"),
        "nosets": _run(_without_sets()).save(root / "nosets"),
        "poland": _run(tiny_with_poland()).save(root / "poland"),
    }


@pytest.fixture(scope="module")
def runs(folders: dict[str, Path]) -> dict[str, Results]:
    """The saved results, loaded back."""
    return {name: Results.load(path) for name, path in folders.items()}


def _value(frame: pd.DataFrame, keys: dict[str, Any], column: str) -> Any:
    mask = pd.Series(True, index=frame.index)
    for k, v in keys.items():
        mask &= frame[k] == v
    (value,) = frame.loc[mask, column].tolist()
    return None if pd.isna(value) else value


def _same(x: Any, y: Any) -> bool:
    if x is None or y is None:
        return x is None and y is None
    return bool(x == pytest.approx(y))


def test_differences_equal_the_assessments_differences(runs: dict[str, Results]) -> None:
    a, b = runs["today"], runs["nosets"]
    c = compare(a, b, labels=("today", "nosets"))
    ra, rb = assess(a).regions, assess(b).regions
    assert list(c.regions["region"]) == sorted(ra["region"])
    for region in ra["region"]:
        key = {"region": region}
        for q in ("closure_day", "shortfall_days", "shortfall_bde_days", "vulnerable_days"):
            va, vb = _value(ra, key, q), _value(rb, key, q)
            assert _same(_value(c.regions, key, f"{q}_today"), va), q
            assert _same(_value(c.regions, key, f"{q}_nosets"), vb), q
            assert _same(_value(c.regions, key, f"{q}_diff"), vb - va), q
        for q in ("vulnerable_from", "vulnerable_until", "max_ratio"):
            assert _same(_value(c.regions, key, f"{q}_today"), _value(ra, key, q)), q
            assert _same(_value(c.regions, key, f"{q}_nosets"), _value(rb, key, q)), q

    ca, cb = assess(a).capabilities, assess(b).capabilities
    assert len(c.capabilities) == len(ca) == len(cb)
    for region, cap in zip(ca["region"], ca["capability"], strict=True):
        key = {"region": region, "capability": cap}
        da, db = _value(ca, key, "closure_day"), _value(cb, key, "closure_day")
        assert _value(c.capabilities, key, "closure_day_today") == da
        assert _value(c.capabilities, key, "closure_day_nosets") == db
        assert _value(c.capabilities, key, "closure_day_diff") == db - da
    # Without the set, the air-defence battalion is not held behind the brigade's draw.
    air = _value(c.capabilities, {"capability": "air_defence"}, "closure_day_diff")
    words = _value(c.capabilities, {"capability": "air_defence"}, "closure")
    assert (air, words) == (-5, "nosets 5 days earlier")

    ta, tb = tier_table(a), tier_table(b)
    # tiny runs 60 days: day 180 is not counted; the horizon is, in its place.
    assert "closed_by_180" not in ta and "closed_by_60" in ta
    for d in (10, 30, 60):
        total_a, total_b = int(ta[f"closed_by_{d}"].sum()), int(tb[f"closed_by_{d}"].sum())
        row = c.alliance[c.alliance["day"] == d].iloc[0]
        assert (row["troops_closed_today"], row["troops_closed_nosets"]) == (total_a, total_b)
        assert row["troops_closed_diff"] == total_b - total_a
        for tier in ta["tier"]:
            key = {"tier": tier, "day": d}
            assert _value(c.tiers, key, "troops_closed_today") == _value(
                ta, {"tier": tier}, f"closed_by_{d}"
            )


def test_different_scenarios_are_compared_and_said_to_differ(runs: dict[str, Results]) -> None:
    c = compare(runs["today"], runs["nosets"])
    assert c.labels == ("A", "B")
    assert not c.same_scenario
    assert c.notes[0].startswith("different scenarios: A is tiny (digest ")
    assert list(c.runs["label"]) == ["A", "B"]
    assert c.runs["scenario_digest"].tolist() == [
        runs["today"].meta["scenario_digest"],
        runs["nosets"].meta["scenario_digest"],
    ]
    assert "closure_day_A" in c.regions and "closure_day_B" in c.regions


def test_identical_runs_give_zero_differences(runs: dict[str, Results]) -> None:
    a = runs["today"]
    c = compare(a, Results(meta=dict(a.meta), tables=dict(a.tables)))
    assert c.same_scenario
    assert "the runs should be identical" in c.notes[0]
    for frame in (c.regions, c.capabilities, c.alliance, c.tiers):
        diffs = [col for col in frame.columns if col.endswith("_diff")]
        assert diffs
        for col in diffs:
            assert (frame[col].dropna() == 0).all(), col
    assert set(c.regions["closure"]) == {"same day"}
    assert set(c.capabilities["closure"]) == {"same day"}


def test_regions_in_only_one_run_are_kept_with_empty_values(runs: dict[str, Results]) -> None:
    c = compare(runs["today"], runs["poland"], labels=("today", "poland"))
    assert list(c.regions["region"]) == ["lithuania", "poland"]
    key = {"region": "poland"}
    assert _value(c.regions, key, "closure") == "region only in poland"
    for q in ("closure_day", "shortfall_days", "shortfall_bde_days", "vulnerable_days"):
        assert _value(c.regions, key, f"{q}_today") is None
        assert _value(c.regions, key, f"{q}_diff") is None
    assert _value(c.regions, key, "shortfall_days_poland") == _value(
        assess(runs["poland"]).regions, key, "shortfall_days"
    )
    assert _value(c.capabilities, key, "closure") == "region only in poland"

    # With its tier-2 brigade sent to Poland, Lithuania no longer closes.
    lt = {"region": "lithuania"}
    assert _value(c.regions, lt, "closure_day_today") is not None
    assert _value(c.regions, lt, "closure_day_poland") is None
    assert _value(c.regions, lt, "closure_day_diff") is None
    assert _value(c.regions, lt, "closure") == "closes only in today"

    swapped = compare(runs["poland"], runs["today"], labels=("poland", "today"))
    assert _value(swapped.regions, key, "closure") == "region only in poland"
    assert _value(swapped.regions, lt, "closure") == "closes only in today"
    assert _value(swapped.regions, key, "closure_day_today") is None


def test_other_horizons_are_noted(runs: dict[str, Results]) -> None:
    raw = tiny_raw()
    raw["meta"]["horizon_days"] = 90
    c = compare(runs["today"], _run(raw))
    assert not c.same_scenario
    assert any(n.startswith("horizons differ (60 in A, 90 in B)") for n in c.notes)


@pytest.mark.parametrize("labels", [("A", "A"), ("A", ""), ("A", "diff"), ("A",), "AB"])
def test_bad_labels_are_refused(runs: dict[str, Results], labels: Any) -> None:
    with pytest.raises(ValueError):
        check_labels(labels)
    with pytest.raises(ValueError):
        compare(runs["today"], runs["today"], labels=labels)


def test_default_labels_are_the_folder_names(tmp_path: Path) -> None:
    assert default_labels(tmp_path / "today", tmp_path / "plan") == ("today", "plan")
    # Same folder name in two places: the paths as given tell them apart.
    assert default_labels("x/results", "y/results") == ("x/results", "y/results")
    assert default_labels("results", "results") == ("A", "B")
    # A folder called "diff" cannot name a run (it names the difference columns).
    assert default_labels(tmp_path / "diff", tmp_path / "b") == (
        str(tmp_path / "diff"),
        str(tmp_path / "b"),
    )


def test_comparison_is_frozen(runs: dict[str, Results]) -> None:
    c = compare(runs["today"], runs["nosets"])
    assert isinstance(c, Comparison)
    with pytest.raises(AttributeError):
        c.labels = ("X", "Y")  # type: ignore[misc]
    assert list(c.tables()) == ["changes", "runs", "regions", "capabilities", "alliance", "tiers"]


# The command line -----------------------------------------------------------------------------


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result


def test_cli_prints_tables_labelled_by_folder_names(folders: dict[str, Path]) -> None:
    result = invoke("compare", str(folders["today"]), str(folders["nosets"]))
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "today against nosets (diff: nosets - today)" in text
    assert "different scenarios" in text
    for title in (
        "Closure day by region",
        "Shortfall by region",
        "Window of vulnerability by region",
        "Closure day by region and capability",
        "Troops closed in region by day",
    ):
        assert title in text
    assert "lithuania" in text
    assert "nosets 5 days earlier" in text


def test_cli_same_folder_twice_is_labelled_a_and_b(folders: dict[str, Path]) -> None:
    result = invoke("compare", str(folders["today"]), str(folders["today"]), "-f", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["labels"] == ["A", "B"]
    assert doc["same_scenario"] is True


def test_cli_json(folders: dict[str, Path], runs: dict[str, Results]) -> None:
    result = invoke(
        "compare",
        str(folders["today"]),
        str(folders["poland"]),
        "--labels",
        "now, plan",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["labels"] == ["now", "plan"]
    assert doc["same_scenario"] is False
    assert set(doc) >= {"notes", "runs", "regions", "capabilities", "alliance", "tiers"}
    regions = {r["region"]: r for r in doc["regions"]}
    assert regions["poland"]["closure_day_now"] is None
    assert regions["poland"]["closure"] == "region only in plan"
    expected = compare(runs["today"], runs["poland"]).regions
    assert regions["lithuania"]["shortfall_days_diff"] == int(
        expected.loc[expected["region"] == "lithuania", "shortfall_days_diff"].iloc[0]
    )


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_cli_out_saves_the_region_table(
    folders: dict[str, Path], tmp_path: Path, suffix: str
) -> None:
    target = tmp_path / f"regions{suffix}"
    result = invoke("compare", str(folders["today"]), str(folders["nosets"]), "--out", str(target))
    assert result.exit_code == 0, result.stderr
    assert f"wrote {target}" in result.stderr
    frame = (
        pd.read_csv(target) if suffix == ".csv" else pd.DataFrame(json.loads(target.read_text()))
    )
    assert list(frame["region"]) == ["lithuania"]
    assert int(frame["closure_day_today"].iloc[0]) == int(frame["closure_day_nosets"].iloc[0])
    assert "shortfall_bde_days_diff" in frame.columns


def test_cli_missing_folder_exits_2(folders: dict[str, Path], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = invoke("compare", str(folders["today"]), str(missing))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"error: {missing}: no such results folder" in result.stderr


def test_cli_folder_without_results_exits_2(folders: dict[str, Path], tmp_path: Path) -> None:
    result = invoke("compare", str(tmp_path), str(folders["today"]))
    assert result.exit_code == 2
    assert "not a results folder (meta.json is missing)" in result.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--labels", "x,x"], "the two labels must differ"),
        (["--labels", "x"], "two labels are needed"),
        (["--out", "regions.txt"], "must end in .csv, .json or .xlsx"),
        (["--out", "no/such/folder/regions.csv"], "no folder"),
    ],
)
def test_cli_bad_options_exit_2(folders: dict[str, Path], args: list[str], words: str) -> None:
    result = invoke("compare", str(folders["today"]), str(folders["nosets"]), *args)
    assert result.exit_code == 2
    assert words in result.stderr


def test_compare_and_its_report_open_with_the_scenario_diff_and_the_headline(
    tmp_path: Path,
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert runner.invoke(app, ["simulate", "tiny", "--out", str(a), "-q"]).exit_code == 0
    slow = "links.depot-p_gauge-change_rail.t_per_day=3000"
    assert (
        runner.invoke(app, ["simulate", "tiny", "--out", str(b), "-q", "--set", slow]).exit_code
        == 0
    )
    text = runner.invoke(app, ["compare", str(a), str(b)]).stdout
    assert text.index("What changed") < text.index("Headline:") < text.index("Closure day")
    assert "links.depot-p_gauge-change_rail.t_per_day: 12000.0 -> 3000.0" in text
    doc = json.loads(runner.invoke(app, ["compare", str(a), str(b), "-f", "json"]).stdout)
    assert doc["headline"] and doc["changes"][0]["legs_a"] > 0
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(a), "--compare", str(b), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert page.index('id="changes"') < page.index('id="headline"') < page.index('class="summary"')
    assert "links.depot-p_gauge-change_rail.t_per_day" in page
    for line in doc["headline"]:
        assert html.escape(line) in page
