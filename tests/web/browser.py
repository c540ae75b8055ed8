"""Helpers of the browser tests: a live server on a loopback port, Chromium, checks of pages.

The server is the service's application (``create_app``, pages mounted) run by uvicorn in a
thread on 127.0.0.1 and a free port. The browser is Debian's Chromium, driven by Playwright
(which never downloads one of its own here: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1), headless, with
every request to anything but the loopback server aborted: the pages must work offline.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: axe-core, installed from npm by `make` (package.json at the repository's root).
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
#: Impacts of accessibility violations that fail a page.
SERIOUS = frozenset({"serious", "critical"})


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve the application on a free loopback port; its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)"
    if not AXE.exists():
        return f"{AXE} is missing: `make test` installs it (npm ci)"
    return None


def offline(context: Any, blocked: list[str]) -> None:
    """Abort every request that leaves the loopback server; remember what was tried."""

    def route(r: Any) -> None:
        host = urlsplit(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)


def not_blank(png: Path) -> None:
    """A screenshot shows something: many colours, and not one flat colour."""
    import matplotlib.image

    pixels = np.asarray(matplotlib.image.imread(str(png)))[..., :3]
    flat = pixels.reshape(-1, 3)
    colours = len(np.unique((flat * 255).astype(np.uint8), axis=0))
    assert colours > 20 and float(flat.std()) > 0.05, f"{png} looks blank ({colours} colours)"


def accessible(page: Any) -> list[str]:
    """Serious or critical axe-core violations of the page, as text (empty: none).

    A page that reloads itself (a run's page, when the run ends) may do so while axe runs:
    then the check runs again on the page it became, so the result never depends on how fast
    the run was.
    """
    from playwright.sync_api import Error

    for attempt in range(3):
        try:
            page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
            result = page.evaluate("async () => await axe.run(document)")
            break
        except Error as exc:
            if "Execution context was destroyed" not in str(exc) or attempt == 2:
                raise
            page.wait_for_load_state("load")
    return [
        f"{v['id']} ({v['impact']}): {v['help']}: "
        + "; ".join(str(n["target"]) for n in v["nodes"][:5])
        for v in result["violations"]
        if v.get("impact") in SERIOUS
    ]
