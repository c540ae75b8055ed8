"""Sea legs drawn along sea lanes around land, air legs on great circles (report only)."""

from __future__ import annotations

import numpy as np
from matplotlib.path import Path as Polygon

from forcemodel.report.routes import great_circle, sea_routes
from forcemodel.report.world import load_world

BREMERHAVEN, GDANSK = (8.58, 53.54), (18.66, 54.40)
VALENCIA, CONSTANTA = (-0.32, 39.45), (28.65, 44.17)


def on_land(points: np.ndarray) -> np.ndarray:
    land = np.zeros(len(points), dtype=bool)
    for ring in load_world().land:
        land |= Polygon(ring).contains_points(points)
    return land


def test_a_ship_from_bremerhaven_to_gdansk_goes_round_jutland() -> None:
    (route,) = sea_routes([(*BREMERHAVEN, *GDANSK)])
    assert tuple(route[0]) == BREMERHAVEN and tuple(route[-1]) == GDANSK
    inner = route[2:-2]  # the ends are the ports themselves, on the coast
    assert on_land(inner).mean() < 0.1
    assert route[:, 1].max() > 57.0  # up through the Skagerrak, not across Jutland
    straight = np.linspace(BREMERHAVEN, GDANSK, 50)
    assert on_land(straight).mean() > 0.3  # which the straight line would cross


def test_a_ship_from_valencia_to_constanta_passes_the_turkish_straits() -> None:
    (route,) = sea_routes([(*VALENCIA, *CONSTANTA)])
    assert len(route) > 10
    near_straits = (route[:, 0] > 26) & (route[:, 0] < 29.5) & (route[:, 1] > 39.8)
    assert near_straits.any()
    assert on_land(route[2:-2]).mean() < 0.15


def test_air_legs_follow_the_great_circle() -> None:
    route = great_circle(-77.0, 38.9, 21.0, 52.2, n=40)  # Washington to Warsaw
    assert len(route) == 40
    assert route[:, 1].max() > 52.2 + 2  # a great circle bows towards the pole
    np.testing.assert_allclose(route[0], [-77.0, 38.9], atol=1e-9)
    np.testing.assert_allclose(route[-1], [21.0, 52.2], atol=1e-9)
