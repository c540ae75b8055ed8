"""The bundled spending table against NATO's published counts, guidelines, shortfall costs.

NATO, "Defence Expenditure of NATO Countries (2014-2024)", press release of 17 June 2024:
23 of 32 allies at or above 2 % of GDP in 2024 (estimates), 3 in 2014; NATO Secretary
General's Annual Report 2022 (21 March 2023): 7 allies in 2022. Sources per row in
src/forcemodel/data/capability/spending.csv and sources.yaml.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from forcemodel import capability as cap
from forcemodel.capability.load import bundled_tables
from forcemodel.capability.model import CapabilityFile
from forcemodel.capability.spending import counts


@pytest.mark.parametrize(
    ("year", "meeting", "members"),
    [
        (2014, 3, 28),  # NATO press release 17 June 2024 (2014 column)
        (2022, 7, 30),  # NATO Secretary General's Annual Report 2022 (21 March 2023)
        (2023, 11, 31),  # NATO Secretary General's Annual Report 2023 (March 2024)
        (2024, 23, 32),  # NATO press release 17 June 2024: "23 of 32"
    ],
)
def test_bundled_table_reproduces_natos_counts_at_two_percent(
    year: int, meeting: int, members: int
) -> None:
    table = counts(bundled_tables(), CapabilityFile(), [year]).set_index("guideline")
    assert table.loc["2% of GDP", "meeting"] == meeting
    assert table.loc["2% of GDP", "members"] == members


def test_every_row_of_the_bundled_tables_names_a_known_source() -> None:
    t = bundled_tables()
    known = set(t.sources)
    for name in (
        "spending",
        "economy",
        "allies",
        "unit_costs",
        "production",
        "pledge",
        "consumption",
        "stockpiles",
    ):
        frame: pd.DataFrame = getattr(t, name)
        for text in frame["source"]:
            ids = [part.split("]")[0] for part in str(text).split("[")[1:]]
            assert ids or "assumption" in text or "not found" in text, (name, text)
            assert set(ids) <= known, (name, set(ids) - known)


def test_user_guideline_and_unknown_figures() -> None:
    plan = CapabilityFile(guidelines=[{"name": "3.5% core", "share_gdp_pct": 3.5}])
    table = counts(bundled_tables(), plan, [2022, 2024]).set_index(["guideline", "year"])
    # 2024: Poland 4.12 is the only ally at 3.5 % or more.
    assert table.loc[("3.5% core", 2024), "meeting"] == 1
    # 2022: the table holds the figures of the seven allies at or above 2 % only; the
    # others are "no figure", never counted as meeting or missing a 3.5 % guideline.
    assert table.loc[("3.5% core", 2022), "meeting"] == 1  # Greece 3.54
    assert table.loc[("3.5% core", 2022), "no_figure"] == 23


def test_shortfall_costs_use_the_files_unit_costs() -> None:
    plan = {
        "allies": ["DE", "PL", "NL", "LT"],
        "cap_share": 0.5,
        "figures": [
            {"ally": a, "year": 2024, "gdp_busd": g, "source": "example"}
            for a, g in (("DE", 4000), ("PL", 800), ("NL", 1000), ("LT", 200))
        ],
        "unit_costs": [{"capability": "land", "default": 100, "low": 80, "high": 150}],
    }
    s = cap.spending("tiny", plan)
    land = s.costs[s.costs["capability"] == "land"].set_index("ally")
    assert land.loc["DE", "shortfall"] == pytest.approx(0.7)
    assert land.loc["NL", "cost_default"] == pytest.approx(100.0)
    assert land.loc["DE", "cost_low"] == pytest.approx(56.0)
    assert land.loc["DE", "cost_high"] == pytest.approx(105.0)
    # Air defence from the bundled table: DE 0.5 battalion short at 1,650 MUSD a battalion.
    ad = s.costs[s.costs["capability"] == "air_defence"].set_index("ally")
    assert ad.loc["DE", "cost_default"] == pytest.approx(0.5 * 1650)
    # Without a unit cost anywhere the cost is left empty, never guessed.
    tables = bundled_tables()
    bare = replace(
        tables, unit_costs=tables.unit_costs[tables.unit_costs["capability"] != "air_defence"]
    )
    ad = cap.spending("tiny", plan, tables=bare).costs
    ad = ad[ad["capability"] == "air_defence"]
    assert len(ad) and ad["cost_default"].isna().all()


def test_a_unit_cost_range_must_be_ordered() -> None:
    with pytest.raises(cap.CapabilityError) as info:
        cap.spending("tiny", {"unit_costs": [{"capability": "air", "default": 5, "low": 9}]})
    assert "need low <= default <= high" in str(info.value)


ALL_YEARS = (2014, 2022, 2023, 2024)


def test_economy_table_covers_every_ally_and_year() -> None:
    """GDP (current and 2015 prices) and population for all 32 allies in every year the
    spending table holds (World Bank WDI; 2024 current GDP an assumption, stated per row)."""
    t = bundled_tables()
    e = t.economy.set_index(["ally", "year"])
    expected = {(a, y) for a in t.allies["ally"] for y in ALL_YEARS}
    assert set(e.index) == expected
    for col in ("gdp_busd", "gdp_const_busd", "population_m"):
        assert (e[col] > 0).all(), col
    # Magnitudes a reader can check against the World Bank's pages.
    assert e.loc[("US", 2023), "gdp_busd"] == pytest.approx(27360.9, abs=0.1)
    assert e.loc[("EE", 2024), "population_m"] == pytest.approx(1.3723, abs=1e-4)
    assert all("assumption" in s for s in e.xs(2024, level="year")["source"])
    assert not any("assumption" in s for s in t.economy[t.economy["year"] < 2024]["source"])


def test_constant_price_expenditure_is_share_times_real_gdp() -> None:
    """The derived column cannot drift from its rule: share (%) x GDP at 2015 prices x 10."""
    t = bundled_tables()
    m = t.spending.merge(t.economy, on=["ally", "year"], suffixes=("", "_e"))
    has = m["share_gdp_pct"].notna()
    assert m.loc[has, "expenditure_const_musd"].to_numpy() == pytest.approx(
        (m.loc[has, "share_gdp_pct"] * m.loc[has, "gdp_const_busd"] * 10).to_numpy(), abs=0.06
    )
    assert m.loc[~has, "expenditure_const_musd"].isna().all()


def test_real_growth_by_hand() -> None:
    r = cap.spending("eastern-flank").real.set_index(["ally", "year"])
    pl23, pl24 = r.loc[("PL", 2023)], r.loc[("PL", 2024)]
    assert pl24["from_year"] == 2023
    assert pl24["real_change_pct"] == pytest.approx(
        (pl24["expenditure_const_musd"] / pl23["expenditure_const_musd"] - 1) * 100
    )
    pl14 = r.loc[("PL", 2014), "expenditure_const_musd"]
    assert pl24["since_first_pct"] == pytest.approx(
        (pl24["expenditure_const_musd"] / pl14 - 1) * 100
    )
    # A file figure wins over the table's.
    figure = {"ally": "PL", "year": 2024, "expenditure_const_musd": 2 * pl14, "source": "x"}
    mine = cap.spending("eastern-flank", {"figures": [figure]}).real.set_index(["ally", "year"])
    assert mine.loc[("PL", 2024), "since_first_pct"] == pytest.approx(100.0)


@pytest.mark.parametrize("rule", ["population", "budget"])
def test_population_and_budget_rules_apportion_every_eastern_flank_ally(rule: str) -> None:
    r = cap.targets("eastern-flank", rule=rule)
    assert set(r.unattributed["nation"]) == {"XX"}
    assert r.shares["weight"].sum() == pytest.approx(1.0)
    shares = r.shares.set_index("ally")
    column = {"population": "population_m", "budget": "budget_musd"}[rule]
    expected = shares[column] / shares[column].sum()
    assert shares["weight"].to_numpy() == pytest.approx(expected.to_numpy())
    if rule == "budget":  # the budget is the expenditure at 2015 prices
        assert (shares["budget_musd"] == shares["expenditure_const_musd"]).all()
