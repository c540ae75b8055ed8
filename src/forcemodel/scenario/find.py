"""Finding things in a scenario: its nodes, links, units and stocks, by text, country or place.

``forcemodel list links --near lt-sestokai`` answers "what is the id of the line into
Šeštokai?" without pandas. Pure functions over a :class:`Scenario`; the CLI only prints.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from forcemodel.scenario.model import Scenario, great_circle_km

Listing = Literal["nodes", "links", "units", "stocks"]
LISTINGS: tuple[str, ...] = ("nodes", "links", "units", "stocks")

#: The columns shown for each listing, in order (the table has every field).
COLUMNS: dict[str, list[str]] = {
    "nodes": ["id", "kind", "country", "name", "t_per_day", "transship.t_per_day"],
    "links": ["id", "from", "to", "mode", "gauge", "distance_km", "t_per_day", "pool"],
    "units": ["id", "nation", "type", "tier", "personnel", "home", "assigned_to", "set_type"],
    "stocks": ["id", "depot", "country", "kind", "set_type", "sets", "t", "draw_days"],
}


def find(
    scenario: Scenario,
    listing: Listing,
    search: str | None = None,
    country: str | None = None,
    near: str | None = None,
    within_km: float | None = None,
) -> pd.DataFrame:
    """The items of ``listing`` that match every filter given, with the columns of COLUMNS.

    ``search``: text found (any case) in any field but the source; ``country``: ISO code of
    the item's place (a node's country, a link's either end, a unit's home, a stock's depot);
    ``near``: a node id: a ``km`` column with the great-circle distance from it (for a link,
    of its nearer end) and rows sorted by it, within ``within_km`` if given. Raises
    :class:`KeyError` naming a ``near`` node that does not exist.
    """
    if listing not in LISTINGS:
        raise ValueError(f"list one of {', '.join(LISTINGS)}, not {listing!r}")
    table = scenario.table(listing)
    places = _places(scenario, listing, table)  # one list of node ids per row
    countries = {n.id: n.country for n in scenario.nodes}
    if listing == "stocks":
        table["country"] = [countries.get(p[0], "") for p in places]
    keep = pd.Series(True, index=table.index)
    if search:
        text = table.drop(columns=["source"], errors="ignore").astype(str)
        hits = text.apply(lambda col: col.str.contains(search, case=False, regex=False))
        keep &= hits.any(axis=1)
    if country:
        want = country.upper()
        keep &= pd.Series([any(countries.get(p) == want for p in ps) for ps in places])
    columns = [c for c in COLUMNS[listing] if c in table.columns]
    if near is not None:
        centre = scenario.node(near)
        pos = {n.id: (n.lat, n.lon) for n in scenario.nodes}
        km = [
            min(great_circle_km(centre.lat, centre.lon, *pos[p]) for p in ps if p in pos)
            for ps in places
        ]
        table["km"] = [round(k, 1) for k in km]
        if within_km is not None:
            keep &= table["km"] <= within_km
        columns.append("km")
    out: pd.DataFrame = table.loc[keep, columns]
    if near is not None:
        out = out.sort_values(["km", "id"], kind="stable")
    return out.reset_index(drop=True)


def _places(scenario: Scenario, listing: str, table: pd.DataFrame) -> list[list[str]]:
    if table.empty:
        return []
    if listing == "nodes":
        return [[i] for i in table["id"]]
    if listing == "links":
        return [[a, b] for a, b in zip(table["from"], table["to"], strict=True)]
    if listing == "units":
        return [[h] for h in table["home"]]
    return [[d] for d in table["depot"]]
