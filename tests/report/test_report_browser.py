"""The report in a real browser: Debian's Chromium, headless, driven by Playwright.

The disruption bands on the power chart, the disruption on the map, the tier chart and the
routed legs are checked where the reader sees them: in the page plotly.js drew. Screenshots of
each are written and must not be blank. Chromium is installed by ``make test`` (apt); the test
never downloads a browser of its own.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import sync_playwright
from typer.testing import CliRunner

from forcemodel.cli import app

CHROMIUM = "/usr/bin/chromium"
runner = CliRunner()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    cut = (
        "disruptions.rail-cut={target: gauge-change_assembly-lt_rail, start_day: 5, days: 20, "
        "capacity_factor: 0}"
    )
    args = ["simulate", "tiny", "--out", str(root / "run"), "-q", "--set", cut]
    assert runner.invoke(app, args).exit_code == 0
    result = runner.invoke(app, ["report", str(root / "run"), "--out", str(root / "report.html")])
    assert result.exit_code == 0, result.output
    return root / "report.html"


def not_blank(png: bytes) -> None:
    """A screenshot with content: many colours, not one flat background."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 20, f"{len(colours)} colours: the chart looks blank"
    top = max(count for count, _ in colours)
    assert top < 0.97 * image.width * image.height, "one colour fills the chart"


@pytest.mark.slow
def test_report_renders_disruptions_tiers_and_routes(report: Path, tmp_path: Path) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.route("http*://**", lambda route: route.abort())  # offline: nothing fetched
            page.goto(report.as_uri())
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4")
            charts: list[dict[str, Any]] = page.evaluate(
                """() => [...document.querySelectorAll('.js-plotly-plot')].map(gd => ({
                    id: gd.id,
                    section: gd.closest('section').id,
                    shapes: (gd.layout.shapes || []).map(s => s.name || ''),
                    traces: gd.data.map(t => ({name: t.name || '', n: (t.x || []).length,
                                               mode: t.mode || '', type: t.type})),
                }))"""
            )
            by_section: dict[str, list[dict[str, Any]]] = {}
            for chart in charts:
                by_section.setdefault(chart["section"], []).append(chart)

            power = by_section["power"][0]
            assert any(s == "disruption rail-cut" for s in power["shapes"]), power["shapes"]
            tiers = by_section["tiers"][0]
            names = {t["name"] for t in tiers["traces"]}
            assert {"troops offered", "force model target"} <= names
            mapped = by_section["map"][0]
            assert any(t["name"] == "disruption" for t in mapped["traces"])
            # The air bridge is drawn on its great circle: many points, not two ends.
            assert any(
                t["n"] > 10 and t["name"] == "air (people)" for t in mapped["traces"]
            ) or any(t["n"] > 10 and "air" in t["name"] for t in mapped["traces"]), [
                (t["name"], t["n"]) for t in mapped["traces"]
            ]

            for section in ("power", "tiers", "map"):
                element = page.locator(f"#{by_section[section][0]['id']}")
                element.scroll_into_view_if_needed()
                png = element.screenshot(path=str(tmp_path / f"{section}.png"))
                not_blank(png)
                assert (tmp_path / f"{section}.png").stat().st_size > 5_000
        finally:
            browser.close()
