"""Headless Debian Chromium through Playwright, and a watcher for anything a hostile page would do."""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass, field

import pytest
from playwright.async_api import Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]

# Runs in the page before its own scripts: records CSP violations, which is what injected markup
# that slipped through escaping would cause.
WATCH_SCRIPT = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@contextlib.asynccontextmanager
async def chromium():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (never `playwright install`)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class PageWatch:
    """Dialogs, console messages, page errors and requests that left the desk's origin."""

    origin: str
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    async def attach(self, page: Page) -> None:
        await page.add_init_script(WATCH_SCRIPT)

        async def on_dialog(dialog):
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            await dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("request", lambda req: None if req.url.startswith(self.origin) else self.foreign_requests.append(req.url))

    async def assert_nothing_ran(self, page: Page) -> None:
        assert self.dialogs == []
        assert self.console == []
        assert self.errors == []
        assert self.foreign_requests == []
        assert await page.evaluate("window.__xss") is None
        assert await page.evaluate("window.__csp") == []
        assert page.url.startswith(self.origin)
