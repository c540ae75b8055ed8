"""``/docs`` renders from the package alone (no CDN), and ``/`` leads to it.

In process: the page names only the service's own assets, which are the vendored Swagger UI
files (their digests as the README records them). In a real browser (Playwright driving Debian's
Chromium, headless) with every request that leaves the service refused: Swagger UI draws the
operations of the description, and the screenshot written is not blank.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_service import Service, start_service

from forcemodel.service.routers.docs import ASSETS

#: The vendored files and their digests (as in ASSETS/README.md).
DIGESTS = {
    "swagger-ui-bundle.js": "b164c5a22535e40dae08c00271674a67e437ec195098c55fcedf8ffac7ac3c88",
    "swagger-ui.css": "7eb9f5a125e4bc9b3f0b71869b66d1a3d7c501f972f53d44ef91c2ae6c5bda5e",
}


@pytest.fixture
def sqlite_service(tmp_path: Path) -> Iterator[Service]:
    yield from start_service(f"sqlite:///{tmp_path / 'docs.db'}")


def test_the_home_page_leads_to_the_docs(sqlite_service: Service) -> None:
    response = sqlite_service.client.get("/", follow_redirects=False)
    assert response.status_code in (302, 307) and response.headers["location"] == "/docs"


def test_the_docs_name_only_the_services_own_assets(sqlite_service: Service) -> None:
    page = sqlite_service.client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls and all(u.startswith("/docs/assets/") for u in urls), urls
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    for url in urls:
        asset = sqlite_service.client.get(url)
        assert asset.status_code == 200, url
        assert asset.content == (ASSETS / url.rsplit("/", 1)[1]).read_bytes()
    for name, digest in DIGESTS.items():
        assert hashlib.sha256((ASSETS / name).read_bytes()).hexdigest() == digest
        assert digest in (ASSETS / "README.md").read_text()


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail("CI needs Chromium (Debian's chromium package) for the browser tests")
        pytest.skip("Chromium is not installed here (apt-get install chromium)")
    return found


@pytest.mark.slow
def test_swagger_ui_renders_with_the_network_blocked(tmp_path: Path) -> None:
    from playwright.sync_api import Route, sync_playwright
    from test_service_http import serving

    chromium = _chromium()
    with serving(f"sqlite:///{tmp_path / 'browser.db'}", tmp_path / "server.log") as server:
        left: list[str] = []

        def only_the_service(route: Route) -> None:
            if route.request.url.startswith(server.base):
                route.continue_()
            else:
                left.append(route.request.url)
                route.abort()

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            try:
                page = browser.new_page()
                page.route("**/*", only_the_service)
                page.goto(f"{server.base}/")  # / leads to /docs
                page.wait_for_selector(".opblock-summary-path", timeout=60_000)
                paths = page.locator(".opblock-summary-path").all_inner_texts()
                title = page.locator(".title").first.inner_text()
                shot = tmp_path / "docs.png"
                page.screenshot(path=str(shot), full_page=False)
            finally:
                browser.close()
    assert page.url.endswith("/docs")
    assert "forcemodel security assistance" in title
    assert any("/pledges" in p for p in paths) and any("/match/jobs" in p for p in paths)
    assert left == []  # nothing was asked of any other host
    pixels = shot.read_bytes()
    assert len(pixels) > 10_000  # a page drawn, not a blank one (a blank PNG is ~3 kB)
