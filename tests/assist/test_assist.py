"""Security assistance: the case format, matching worked out by hand, explanations, Kiel
import, reports, the CLI, and properties of every plan."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from forcemodel.assist import (
    AssistError,
    fleet_mix,
    import_kiel,
    load_case,
    load_case_data,
    match_case,
    status_table,
    table_csv,
)
from forcemodel.cli import app

# A case worked out by hand (docs/assistance.md, "A case worked by hand"). Day 0 is 1 Jan.
TINY = """\
meta: {name: tiny-assist, start: 2025-01-01, horizon_days: 30}
donors:
  - {id: DE}
  - {id: US}
  - {id: PL}
items:
  - {id: how-155, category: system, capability: tube_artillery, family: m109, standard: nato,
     tons: 30, crew: 5, supplies: [{family: 155mm, per_system: 10}]}
  - {id: shell-155, category: ammunition, capability: artillery_ammunition, family: 155mm,
     standard: nato, tons: 0.05}
  - {id: shell-152, category: ammunition, capability: artillery_ammunition, family: 152mm,
     standard: soviet, tons: 0.05}
  - {id: tank-a, category: system, capability: tank, family: leo, standard: nato, tons: 60,
     crew: 4}
  - {id: sam-x, category: system, capability: air_defence, family: samx, standard: nato,
     tons: 20, crew: 3}
requirements:
  - {id: R1, item: how-155, quantity: 4, priority: 2, needed_by: 2025-01-21}
  - {id: R2, capability: tank, quantity: 3, priority: 1, needed_by: 2025-01-26}
  - {id: R3, capability: air_defence, quantity: 1, priority: 1, needed_by: 2025-01-31}
pledges:
  - {id: P1, donor: DE, item: how-155, quantity: 4, location: depot-de}
  - {id: P2, donor: PL, item: shell-152, quantity: 100, location: depot-de}
  - {id: P3, donor: US, item: shell-155, quantity: 20, available_from: 2025-01-06,
     location: depot-de}
  - {id: P4, donor: DE, item: tank-a, quantity: 3, location: depot-de}
hubs:
  - {id: hub-pl, t_per_day: 1000}
routes:
  - {id: r1, from: depot-de, hub: hub-pl, to_hub_days: 2, onward_days: 1}
courses:
  - {id: c-how, cohort_size: 10, duration_days: 10, qualifies: [how-155]}
  - {id: c-tank, cohort_size: 4, duration_days: 14, max_cohorts: 1, qualifies: [tank-a]}
fleet:
  - {item: how-155, quantity: 0}
"""

runner = CliRunner()


def tiny() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(TINY)
    # YAML reads dates as dates; the loader reads them as text: both validate.
    return copy.deepcopy(data)


def reasons(result: Any) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for row in result.unmet.itertuples(index=False):
        out.setdefault(str(row.requirement), set()).add(str(row.reason))
    return out


@pytest.fixture(scope="module")
def tiny_result() -> Any:
    return match_case(load_case_data(tiny(), "tiny"))


def test_worked_case_allocation(tiny_result: Any) -> None:
    dl = tiny_result.deliveries
    got = {
        (r.pledge, r.requirement, r.role, int(r.delivery_day)): 0.0
        for r in dl.itertuples(index=False)
    }
    for r in dl.itertuples(index=False):
        got[(r.pledge, r.requirement, r.role, int(r.delivery_day))] += float(r.quantity)
    # Howitzers and tanks leave on day 0: 2 days to the hub, 1 onward -> day 3. The 155 mm
    # rounds are available on day 5 -> day 8. The 152 mm rounds fit nothing: not allocated.
    assert got == {
        ("P1", "R1", "main", 3): 4.0,
        ("P3", "R1", "supply", 8): 20.0,
        ("P4", "R2", "main", 3): 3.0,
    }


def test_worked_case_operational_dates(tiny_result: Any) -> None:
    dl = tiny_result.deliveries
    op = {
        (
            r.item,
            None
            if r.operational_day is None or str(r.operational_day) == "<NA>"
            else int(r.operational_day),
        ): float(r.quantity)
        for r in dl[dl["role"] == "main"].itertuples(index=False)
    }
    # 20 rounds = a first load for 2 howitzers (10 each); the first gun cohort (10 people,
    # 5 a crew) ends on day 10: 2 howitzers operational on day 10, 2 never (no rounds).
    # One tank cohort only (max_cohorts 1) of 4 ends on day 14: 1 tank of 3.
    assert op == {
        ("how-155", 10): 2.0,
        ("how-155", None): 2.0,
        ("tank-a", 14): 1.0,
        ("tank-a", None): 2.0,
    }
    req = tiny_result.requirements.set_index("requirement")
    assert req.loc["R1", "operational_by_due"] == 2.0
    assert req.loc["R2", "operational_by_due"] == 1.0
    assert req.loc["R3", "operational_by_due"] == 0.0
    assert req["shortfall"].tolist() == [2.0, 2.0, 1.0]
    tr = tiny_result.training
    assert sorted(zip(tr["course"], tr["start"], tr["trainees"], strict=True)) == [
        ("c-how", 0, 10.0),
        ("c-tank", 0, 4.0),
    ]


def test_worked_case_reasons(tiny_result: Any) -> None:
    assert reasons(tiny_result) == {
        "R1": {"incompatible_standard"},
        "R2": {"training_bottleneck"},
        "R3": {"no_pledge"},
    }
    detail = " ".join(tiny_result.unmet["detail"])
    assert "152mm (soviet)" in detail
    assert "at most 4 of the 12 crew members" in detail


def test_hub_capacity_and_late_reasons() -> None:
    data = tiny()
    data["hubs"][0]["t_per_day"] = 60  # one tank, or two howitzers, a day
    data["requirements"][1]["needed_by"] = "2025-01-05"  # day 4: hub days 2 and 3 only
    data["pledges"].append(
        {
            "id": "P5",
            "donor": "US",
            "item": "sam-x",
            "quantity": 1,
            "available_from": "2025-01-29",
            "location": "depot-de",
        }
    )
    result = match_case(load_case_data(data))
    why = reasons(result)
    assert "hub_capacity" in why["R2"]
    assert "late" in why["R3"]
    req = result.requirements.set_index("requirement")
    assert req.loc["R2", "delivered_by_due"] == 2.0
    hubs = result.hubs
    assert (hubs["tons"] <= hubs["capacity"] + 1e-6).all()


def test_no_course_is_a_training_bottleneck() -> None:
    data = tiny()
    data["courses"] = [data["courses"][0]]
    result = match_case(load_case_data(data))
    rows = result.unmet[result.unmet["requirement"] == "R2"]
    assert "no course trains crews for tank-a" in " ".join(rows["detail"])


def test_funds_buy_items_at_a_price() -> None:
    data = tiny()
    data["items"][1].update({"price_eur": 1000, "lead_days": 2, "made_at": "depot-de"})
    data["pledges"].append({"id": "F1", "donor": "PL", "funds_eur": 20000})
    result = match_case(load_case_data(data))
    fund = result.deliveries[result.deliveries["pledge"] == "F1"]
    assert fund["quantity"].sum() == pytest.approx(20.0)  # 20,000 EUR at 1,000 a round
    assert (fund["ship_day"] >= 2).all()
    req = result.requirements.set_index("requirement")
    assert req.loc["R1", "operational_by_due"] == 4.0  # 40 rounds: all four guns fire


def test_recorded_delivery_is_honoured() -> None:
    data = tiny()
    data["deliveries"] = [
        {
            "pledge": "P4",
            "requirement": "R2",
            "quantity": 2,
            "status": "delivered",
            "date": "2025-01-11",
        }
    ]
    result = match_case(load_case_data(data))
    dl = result.deliveries
    on_day_10 = dl[(dl["pledge"] == "P4") & (dl["delivery_day"] == 10)]["quantity"].sum()
    assert on_day_10 >= 2.0


def test_status_and_fleet_mix(tiny_result: Any) -> None:
    status = status_table(tiny_result, as_of=12).set_index("item")
    assert status.loc["how-155"].tolist() == [4.0, 4.0, 4.0, 4.0, 2.0]
    assert status.loc["shell-152"].tolist() == [100.0, 0.0, 0.0, 0.0, 0.0]
    assert status.loc["tank-a", "operational"] == 0.0  # the tank crew ends on day 14
    mix = fleet_mix(tiny_result).set_index("day")
    assert mix.loc[9, "nato"] == 0.0
    assert mix.loc[10, "nato"] == 2.0
    assert mix.loc[14, "nato"] == 3.0


def test_demo_runs() -> None:
    result = runner.invoke(app, ["assist", "demo"])
    assert result.exit_code == 0, result.output
    assert "Fleet mix" in result.stdout
    assert "training_bottleneck" in result.stdout
    assert "hub_capacity" in result.stdout


def test_match_writes_tables(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(TINY, encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["assist", "match", str(case), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in (
        "deliveries",
        "requirements",
        "training",
        "hubs",
        "unmet",
        "status",
        "fleet_mix",
        "input-pledges",
        "input-requirements",
    ):
        assert (out / f"{name}.csv").is_file(), name
    again = runner.invoke(app, ["assist", "match", str(case), "--out", str(out)])
    assert again.exit_code == 2
    assert "exists" in again.stderr


KIEL = """\
Donor,Category,Count,Value (EUR)
Germany,Leopard 2,18,
United States,155mm ammunition,"100,000",
Norway,Unknown widget,5,
Poland,,3,
Denmark,155 mm shells,,8000000
"""


def test_kiel_import_maps_and_reports() -> None:
    case = load_case("example")
    got = import_kiel(
        KIEL, "kiel.csv", case.items, available_from=dt.date(2025, 1, 1), location="depot-de"
    )
    assert got.rows == 5
    pledges = {(p.donor, p.item, p.quantity) for p in got.pledges}
    assert pledges == {
        ("Germany", "leopard-2", 18.0),
        ("United-States", "shell-155", 100000.0),
        ("Denmark", "shell-155", 2000.0),  # 8 million EUR at 4,000 a round
    }
    bad = {(p.line, p.field) for p in got.unmapped}
    assert bad == {(4, "category"), (5, "category")}
    assert "Unknown widget" in str(got.unmapped[0])


def test_kiel_pledges_load_into_a_case(tmp_path: Path) -> None:
    case = load_case("example")
    got = import_kiel(
        KIEL, "kiel.csv", case.items, available_from=dt.date(2025, 1, 1), location="depot-de"
    )
    data = yaml.safe_load(_example_path().read_text(encoding="utf-8"))
    data["pledges"] = "pledges.csv"
    data["donors"] = "donors.csv"
    data["deliveries"] = []
    (tmp_path / "pledges.csv").write_text(got.pledges_csv(), encoding="utf-8")
    (tmp_path / "donors.csv").write_text(got.donors_csv(), encoding="utf-8")
    (tmp_path / "case.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    loaded = load_case(tmp_path / "case.yaml")
    assert len(loaded.pledges) == 3
    assert table_csv(loaded, "pledges") == got.pledges_csv()


def _example_path() -> Path:
    from forcemodel.assist import bundled_cases

    return bundled_cases()["example"]


def test_kiel_bad_header_is_located() -> None:
    with pytest.raises(AssistError) as exc:
        import_kiel(
            "Country,Amount\nX,1\n", "k.csv", [], available_from=dt.date(2025, 1, 1), location="x"
        )
    assert [(p.file, p.line) for p in exc.value.problems] == [("k.csv", 1), ("k.csv", 1)]


def test_import_kiel_cli(tmp_path: Path) -> None:
    src = tmp_path / "kiel.csv"
    src.write_text(KIEL, encoding="utf-8")
    out = tmp_path / "pledges.csv"
    result = runner.invoke(app, ["assist", "import-kiel", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("id,donor,item")
    assert (tmp_path / "pledges-donors.csv").is_file()
    assert "kiel.csv:4" in result.stderr


def test_bad_input_is_located(tmp_path: Path) -> None:
    text = (
        TINY.replace("quantity: 4, priority: 2", "quantity: -4, priority: 2")
        .replace("{id: P2, donor: PL", "{id: P2, donor: XX")
        .replace("horizon_days: 30}", "horizon_days: 30, colour: red}")
    )
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AssistError) as exc:
        load_case(path)
    found = {(p.line, p.field) for p in exc.value.problems}
    lines = text.splitlines()
    line_of = {w: next(i for i, s in enumerate(lines, 1) if w in s) for w in ("colour", "R1", "P2")}
    assert (line_of["colour"], "meta.colour") in found
    assert (line_of["R1"], "requirements[0].quantity") in found
    assert (line_of["P2"], "pledges[1].donor") in found
    result = runner.invoke(app, ["assist", "match", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert f"case.yaml:{line_of['P2']}: pledges[1].donor: no donor 'XX'" in result.stderr
    assert "Traceback" not in result.output


def test_bad_csv_row_is_located(tmp_path: Path) -> None:
    data = tiny()
    data["pledges"] = "pledges.csv"
    (tmp_path / "case.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    (tmp_path / "pledges.csv").write_text(
        "id,donor,item,quantity,location\n"
        "P1,DE,how-155,4,depot-de\n"
        "P2,DE,how-155,many,depot-de\n"
        "P3,DE,no-such-item,1,depot-de\n",
        encoding="utf-8",
    )
    with pytest.raises(AssistError) as exc:
        load_case(tmp_path / "case.yaml")
    got = {(Path(p.file).name, p.line, p.field) for p in exc.value.problems}
    assert ("pledges.csv", 3, "pledges[1].quantity") in got
    assert ("pledges.csv", 4, "pledges[2].item") in got


def test_needed_by_outside_the_horizon() -> None:
    data = tiny()
    data["requirements"][0]["needed_by"] = "2025-03-01"
    with pytest.raises(AssistError, match=r"outside days 0\.\.30"):
        load_case_data(data)


@settings(max_examples=12, deadline=None)
@given(
    guns=st.integers(1, 6),
    rounds=st.integers(0, 80),
    per_system=st.integers(1, 20),
    cohort=st.integers(1, 12),
    crew=st.integers(1, 5),
    hub=st.integers(30, 400),
    avail=st.integers(0, 20),
    duration=st.integers(3, 15),
)
def test_operational_never_exceeds_delivered_crews_or_rounds(
    guns: int,
    rounds: int,
    per_system: int,
    cohort: int,
    crew: int,
    hub: int,
    avail: int,
    duration: int,
) -> None:
    data = tiny()
    data["items"][0]["crew"] = crew
    data["items"][0]["supplies"] = [{"family": "155mm", "per_system": per_system}]
    data["pledges"][0]["quantity"] = guns
    data["pledges"][2]["available_from"] = f"2025-01-{1 + avail:02d}"
    if rounds:
        data["pledges"][2]["quantity"] = rounds
    else:
        del data["pledges"][2]
    data["hubs"][0]["t_per_day"] = hub
    data["courses"][0].update({"cohort_size": cohort, "duration_days": duration})
    result = match_case(load_case_data(data))
    prog = result.progress
    H = 30
    for item, crew_of in (("how-155", crew), ("tank-a", 4)):
        mine = prog[prog["item"] == item]
        tr = result.training[result.training["item"] == item]
        for day in range(H + 1):
            at = mine[mine["day"] == day]
            assert (at["operational"] <= at["delivered"] + 1e-6).all()
            trained = tr[tr["end"] <= day]["trainees"].sum()
            assert at["operational"].sum() * crew_of <= trained + 1e-6
    sup = result.deliveries[result.deliveries["role"] == "supply"]
    r1 = prog[prog["requirement"] == "R1"]
    for day in range(H + 1):
        rounds_in = sup[sup["delivery_day"] <= day]["quantity"].sum()
        op = r1[r1["day"] == day]["operational"].sum()
        assert op * per_system <= rounds_in + 1e-6
    # The 152 mm rounds never serve a 155 mm howitzer.
    assert not (sup["item"] == "shell-152").any()
    hubs = result.hubs
    assert (hubs["tons"] <= hubs["capacity"] + 1e-6).all()


def test_nothing_pledged_gives_an_empty_plan() -> None:
    data = tiny()
    data["pledges"] = []
    result = match_case(load_case_data(data))
    assert result.termination == "optimal"
    assert result.deliveries.empty
    assert set(result.unmet["reason"]) == {"no_pledge"}


def test_match_out_writes_all_tables_or_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure while the tables are written leaves the folder that was there as it was."""
    import forcemodel.cli.assist as cli_assist

    case = tmp_path / "case.yaml"
    case.write_text(TINY, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me\n", encoding="utf-8")

    def disk_full(case: object, table: str) -> str:
        raise OSError(28, "No space left on device", f"input-{table}.csv")

    monkeypatch.setattr(cli_assist, "table_csv", disk_full)
    failed = runner.invoke(app, ["assist", "match", str(case), "--out", str(out), "--force"])
    assert failed.exit_code == 2
    assert "No space left on device" in failed.stderr
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.yaml", "out"]
    monkeypatch.undo()
    done = runner.invoke(app, ["assist", "match", str(case), "--out", str(out), "--force"])
    assert done.exit_code == 0, done.output
    assert not (out / "mine.txt").exists()
    assert (out / "deliveries.csv").is_file()


def test_a_bad_identifier_is_explained_in_words() -> None:
    """The loader words a pattern as the scenario loader does (common.read), not as a regex."""
    from forcemodel.assist.synthetic import synthetic_case

    data = synthetic_case(10, 3, 2, seed=0)
    data["donors"][0]["id"] = "bad id"
    data["hubs"][0]["t_per_day"] = "lots"
    with pytest.raises(AssistError) as got:
        load_case_data(data, "case.yaml")
    text = str(got.value)
    assert "donors[0].id: must be an identifier" in text
    assert "(got 'bad id')" in text
    assert "hubs[0].t_per_day" in text
    assert "(got 'lots')" in text
    assert "[A-Za-z0-9]" not in text


def test_an_unknown_case_name_suggests_the_bundled_one() -> None:
    with pytest.raises(AssistError) as got:
        load_case("exampel")
    text = str(got.value)
    assert "no such file, and no bundled case of that name (did you mean 'example'?)" in text
    assert "(bundled: example" in text
