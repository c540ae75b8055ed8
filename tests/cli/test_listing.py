"""``forcemodel list``: ids found by text, country and place, without pandas."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from forcemodel import load_scenario
from forcemodel.cli import app
from forcemodel.scenario.find import find
from forcemodel.scenario.model import great_circle_km

runner = CliRunner()


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def as_json(*args: str) -> list[dict[str, Any]]:
    result = invoke(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_links_near_the_gauge_break_are_found_nearest_first() -> None:
    rows = as_json("list", "links", "eastern-flank", "--near", "lt-sestokai", "--within", "60")
    ids = [r["id"] for r in rows]
    assert "lt-mockava_lt-sestokai_rail" in ids
    assert [r["km"] for r in rows] == sorted(r["km"] for r in rows)
    assert all(r["km"] <= 60 for r in rows)
    s = load_scenario("eastern-flank")
    centre = s.node("lt-sestokai")
    for link in s.links:  # nothing within 60 km is left out
        ends = [s.node(link.from_), s.node(link.to)]
        if min(great_circle_km(centre.lat, centre.lon, n.lat, n.lon) for n in ends) < 59.9:
            assert link.id in ids


@pytest.mark.parametrize("what", ["nodes", "links", "units", "stocks"])
def test_every_listing_filters_by_country(what: str) -> None:
    every = as_json("list", what, "eastern-flank")
    assert every
    polish = as_json("list", what, "eastern-flank", "--country", "pl")
    assert 0 < len(polish) <= len(every)


def test_units_by_text_and_country_and_the_table_keeps_whole_ids() -> None:
    rows = as_json("list", "units", "eastern-flank", "--country", "DE", "--search", "ARMOURED")
    assert rows and all(r["nation"] == "DE" and "armoured" in r["type"] for r in rows)
    table = invoke("list", "units", "eastern-flank", "--country", "DE", "--search", "armoured")
    for r in rows:
        assert r["id"] in table.stdout  # never cut short to fit the terminal


def test_a_wrong_node_is_named_with_a_hint() -> None:
    result = invoke("list", "links", "eastern-flank", "--near", "lt-sestokaj")
    assert result.exit_code == 2
    assert "did you mean 'lt-sestokai'" in result.stderr
    result = invoke("list", "links", "eastern-flank", "--within", "5")
    assert result.exit_code == 2 and "--near" in result.stderr


def test_find_on_a_table_that_is_empty() -> None:
    s = load_scenario("tiny")
    assert find(s, "stocks", country="XX").empty
