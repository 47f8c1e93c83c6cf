"""One headless Chromium for the browser tests of a test process (tests/e2e/test_page.py,
tests/e2e/test_docs_browser.py): playwright's sync API runs one event loop per thread, so a
second `sync_playwright()` beside a running one fails; every test opens its own context."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

try:
    from playwright.sync_api import Browser, Playwright, sync_playwright
except ImportError as missing:  # pragma: no cover - the failure is the point
    PLAYWRIGHT_ERROR: ImportError | None = missing
else:
    PLAYWRIGHT_ERROR = None

CHROMIUM = os.environ.get("KPLEDGER_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium; fails (never skips) when it or playwright is missing."""
    if PLAYWRIGHT_ERROR is not None:
        pytest.fail(f"the browser tests need the playwright package: {PLAYWRIGHT_ERROR}")
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM}: apt-get install -y chromium")
    manager: Playwright = sync_playwright().start()
    try:
        launched = manager.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()
    finally:
        manager.stop()
