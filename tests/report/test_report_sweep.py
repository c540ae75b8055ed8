"""``forcemodel report RESULTS --sweep DIR --attack DIR``: the sweep's charts in the HTML report,
drawn from the sweep's own numbers; a folder of another scenario is refused, located."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from forcemodel.cli import app
from forcemodel.flow import simulate
from forcemodel.report.sweep_section import (
    criticality_figure,
    fan_figure,
    read_sweep_section,
    window_figure,
)
from forcemodel.results import Results
from forcemodel.scenario import load_scenario
from forcemodel.sweep import read_runs, sweep
from forcemodel.sweep.aggregate import fan_bands
from forcemodel.sweep.spec import SweepError


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A run of tiny, a sweep of it (2 warning days x 3 draws) and an attack on it."""
    base = tmp_path_factory.mktemp("report-sweep")
    simulate(load_scenario("tiny")).save(base / "results")
    sweep(
        "tiny",
        out=base / "sweep",
        draws=3,
        seed=5,
        params=["meta.warning_day=0,10"],
        uncertainty="tiny",
        workers=1,
    )
    args = ["attack", "tiny", "-u", "tiny", "-r", "lithuania", "--k", "1", "-w", "1"]
    result = CliRunner().invoke(app, [*args, "-o", str(base / "attack")])
    assert result.exit_code == 0, result.output
    return {"results": base / "results", "sweep": base / "sweep", "attack": base / "attack"}


def test_the_report_has_the_sweep_section(folders: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    args = ["report", str(folders["results"]), "--sweep", str(folders["sweep"])]
    result = CliRunner().invoke(app, [*args, "--attack", str(folders["attack"]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert '<section id="sweep">' in page and '<a href="#sweep">' in page
    for heading in (
        "Land combat power vs requirement",
        "Window of vulnerability",
        "What moves the closure day",
        "Criticality",
        "The worst attacks",
    ):
        assert heading in page
    # The report's own sections are all still there, and every chart is placed.
    assert '<section id="power">' in page and '<section id="tables">' in page
    divs = set(re.findall(r'id="(chart-\d+)"', page))
    assert divs == set(re.findall(r'Plotly.newPlot\("(chart-\d+)"', page))


def test_every_number_is_the_sweeps_own(folders: dict[str, Path]) -> None:
    results = Results.load(folders["results"])
    s = read_sweep_section(results, folders["sweep"], folders["attack"])
    # Fan: the bands the sweep's PNG fan chart draws (one function), in the chart's data.
    runs = read_runs(folders["sweep"]).to_pandas()
    pd.testing.assert_frame_equal(s.bands, fan_bands(runs))
    fig = fan_figure(s.bands)
    medians = [t for t in fig["data"] if t.get("name") == "median"]
    first = s.bands[s.bands["region"] == s.bands["region"].iloc[0]]
    assert _values(medians[0]["y"]) == pytest.approx(first["p50"].tolist())
    # Window: the summary's P50 and P10-P90, against the swept warning day.
    w = window_figure(s.summary)
    summ = pd.read_parquet(folders["sweep"] / "summary.parquet")
    rows = summ[(summ["figure"] == "vulnerable_days") & (summ["region"] == "lithuania")]
    trace = next(t for t in w["data"] if t["name"] == "lithuania")
    assert _values(trace["y"]) == pytest.approx(rows.sort_values("p.meta.warning_day")["p50"])
    assert _values(trace["x"]) == [0, 10]
    # Criticality: each candidate coloured by its delay in the attack folder's table.
    crit = pd.read_csv(folders["attack"] / "criticality.csv")
    c = criticality_figure(s.criticality, s.nodes, s.links, "lithuania")
    markers = c["data"][-1]
    shown = dict(zip(markers["text"], _values(markers["marker"]["color"]), strict=True))
    mine = crit[crit["region"] == "lithuania"].set_index("asset")["delay"]
    assert shown and all(shown[a] == mine[a] for a in shown)
    assert c["layout"]["title"]["text"].startswith("lithuania")


def _values(v: Any) -> list[float]:
    """A plotly array as numbers (plotly may encode it as a typed array)."""
    if isinstance(v, dict) and "bdata" in v:
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).tolist()
    return list(v)


def test_a_sweep_of_another_scenario_is_refused(folders: dict[str, Path], tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(folders["sweep"], other)
    meta = json.loads((other / "sweep.json").read_text(encoding="utf-8"))
    (other / "sweep.json").write_text(json.dumps({**meta, "scenario": "eastern-flank"}))
    out = tmp_path / "r.html"
    args = ["report", str(folders["results"]), "--sweep", str(other), "-o", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert (
        f"{other / 'sweep.json'}: scenario: a sweep folder of scenario 'eastern-flank', "
        "but the results are of 'tiny'" in result.output.replace("\n", "")
    )
    assert not out.exists()


def test_a_folder_that_is_no_sweep_or_attack_is_refused(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    results = Results.load(folders["results"])
    with pytest.raises(SweepError) as exc:
        read_sweep_section(results, tmp_path, folders["sweep"])
    text = "\n".join(map(str, exc.value.problems))
    assert f"{tmp_path}: --sweep: not a sweep folder (no sweep.json in it)" in text
    assert "--attack: not an attack folder (no attack.json in it)" in text


def test_sobol_indices_appear_when_the_sweep_has_them(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    with_sobol = tmp_path / "sobol"
    shutil.copytree(folders["sweep"], with_sobol)
    frame = pd.DataFrame(
        {
            "region": ["lithuania"],
            "figure": ["closure_day"],
            "input": ["in.warning_day"],
            "S1": [0.8125],
            "S1_conf": [0.03],
            "runs": [60],
        }
    )
    frame.to_parquet(with_sobol / "sobol.parquet", index=False)
    s = read_sweep_section(Results.load(folders["results"]), with_sobol)
    page = s.html(lambda fig: "<div></div>")
    assert "First-order Sobol indices of the closure day" in page
    assert "in.warning_day" in page and "0.81" in page
    # Without the table, no such heading.
    plain = read_sweep_section(Results.load(folders["results"]), folders["sweep"])
    assert "Sobol" not in plain.html(lambda fig: "<div></div>")
