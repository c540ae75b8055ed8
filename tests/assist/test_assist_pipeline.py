"""When systems are usable, the training pipeline and hub throughput (forcemodel.assist.pipeline),
checked against the matcher's own tables on the bundled example case."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from forcemodel.assist import MatchResult, load_case, match_case
from forcemodel.assist.pipeline import courses, hub_throughput, usable_systems


@pytest.fixture(scope="module")
def example() -> MatchResult:
    return match_case(load_case("example"), time_limit=60.0)


def test_usable_systems_agree_with_the_deliveries_and_cohorts(example: MatchResult) -> None:
    table = usable_systems(example).set_index("item")
    main = example.deliveries[example.deliveries["role"] == "main"]
    assert set(table.index) == set(main["item"])
    for item, row in table.iterrows():
        d = main[main["item"] == item]
        assert row["delivered"] == pytest.approx(d["quantity"].sum())
        assert 0 <= row["usable"] <= row["delivered"]
        assert (
            row["first_delivery_date"]
            == example.case.date(int(d["delivery_day"].min())).isoformat()
        )
        mine = example.training[example.training["item"] == item]
        assert row["cohorts"] == len(mine) and row["trainees"] == pytest.approx(
            mine["trainees"].sum()
        )
        if row["first_usable_date"]:
            usable = dt.date.fromisoformat(row["first_usable_date"])
            assert usable >= dt.date.fromisoformat(row["first_delivery_date"])
            if row["held_by"] == "crews":
                crews = dt.date.fromisoformat(row["first_crews_date"])
                assert crews > dt.date.fromisoformat(row["first_delivery_date"]) and usable >= crews
        else:
            assert row["held_by"] == "" and row["usable"] == 0
    # The example's systems need crews that train for weeks: some are held by them.
    assert (table["held_by"] == "crews").any() and (table["held_by"] == "delivery").any()


def test_courses_name_their_prerequisites_and_systems(example: MatchResult) -> None:
    table = courses(example).set_index("course")
    assert len(table) == len(example.case.courses)
    for c in example.case.courses:
        assert table.loc[c.id, "prerequisites"] == ", ".join(c.prerequisites)
        assert table.loc[c.id, "qualifies"] == ", ".join(c.qualifies)


@pytest.mark.parametrize("every", [1, 7, 30, 1000])
def test_hub_throughput_keeps_every_ton(example: MatchResult, every: int) -> None:
    table = hub_throughput(example, every)
    hubs = example.hubs
    sums = table.groupby("hub")["tons"].sum()
    assert sums.to_dict() == pytest.approx(hubs.groupby("hub")["tons"].sum().to_dict())
    assert (table["used"].dropna() <= 1 + 1e-9).all()
    assert set(table["day"]) <= set(hubs["day"]) and hubs["day"].max() in set(table["day"])
    if every == 1:
        plain = hubs.sort_values(["hub", "day"]).reset_index(drop=True)
        assert table["tons"].tolist() == pytest.approx(plain["tons"].tolist())
        used = plain["tons"] / plain["capacity"]
        pd.testing.assert_series_equal(table["used"], used, check_names=False)
