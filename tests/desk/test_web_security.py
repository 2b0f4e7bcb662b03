"""The desk's HTTP security: strict CSP with no inline script, the optional token (bearer, one-time
?token= that becomes an HttpOnly cookie, login form), cross-origin POSTs refused, open health."""

from __future__ import annotations

import re

import aiohttp
from pydantic import SecretStr

from desk.service import Desk
from tests.desk.browser import PageWatch, chromium

TOKEN = "desk-token-7Hq2-long-enough"
# unsafe=True: the desk is addressed by IP (127.0.0.1), where aiohttp's jar refuses cookies by default.


def _settings(settings, token: str | None = None):
    return settings.model_copy(update={"web_port": 0, "web_token": SecretStr(token) if token else None})


async def test_page_has_a_strict_csp_and_no_inline_script(settings):
    async with Desk(_settings(settings), targets=[], consume=False) as desk, aiohttp.ClientSession() as session:
        async with session.get(f"{desk.url}/") as response:
            html = await response.text()
            csp = response.headers["Content-Security-Policy"]
        async with session.get(f"{desk.url}/static/desk.js") as script:
            assert script.status == 200 and "javascript" in script.headers["Content-Type"]
        async with session.get(f"{desk.url}/healthz") as health:
            assert (await health.json())["status"] == "ok"
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", html)  # no CDN, no external asset
    assert not re.search(r"\son\w+=", html)  # no inline event handlers


async def test_token_is_required_and_accepted_as_bearer_cookie_or_feed_query(settings):
    async with Desk(_settings(settings, TOKEN), targets=[], consume=False) as desk, \
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        url = desk.url
        async with session.get(f"{url}/api/alerts") as response:
            assert response.status == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
        async with session.get(f"{url}/", allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/login"
        async with session.get(f"{url}/api/alerts", headers={"Authorization": f"Bearer {TOKEN}x"}) as response:
            assert response.status == 401
        async with session.get(f"{url}/api/alerts", headers={"Authorization": f"Bearer {TOKEN}"}) as response:
            assert response.status == 200
        async with session.get(f"{url}/alerts.atom", params={"token": TOKEN}) as response:
            assert response.status == 200
        async with session.get(f"{url}/healthz") as response:
            assert response.status == 200
        async with session.get(f"{url}/metrics") as response:
            assert response.status == 200

        async with session.get(f"{url}/", params={"token": TOKEN}, allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/"
            cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
        async with session.get(f"{url}/api/alerts") as response:  # the session keeps the cookie
            assert response.status == 200
        async with session.post(f"{url}/api/alerts/x/ack", headers={"Origin": "http://evil.example"}) as response:
            assert response.status == 403
        async with session.post(f"{url}/api/alerts/x/ack", headers={"Origin": url}, json={}) as response:
            assert response.status == 404  # let in; the alert just does not exist

    async with Desk(_settings(settings, TOKEN), targets=[], consume=False) as desk, \
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.post(f"{desk.url}/login", data={"token": "wrong"}) as response:
            assert response.status == 401
        async with session.post(f"{desk.url}/login", data={"token": TOKEN}) as response:
            assert response.status == 200 and str(response.url) == f"{desk.url}/"


async def test_browser_opens_the_desk_once_with_the_token_and_then_works_without_it_in_the_url(settings):
    async with Desk(_settings(settings, TOKEN), targets=[], consume=False) as desk, chromium() as browser:
        context = await browser.new_context()
        page = await context.new_page()
        watch = PageWatch(desk.url)
        await watch.attach(page)
        await page.goto(f"{desk.url}/?token={TOKEN}")
        await page.wait_for_selector("body[data-conn=live][data-ready]", timeout=30_000)
        assert page.url == f"{desk.url}/"
        await page.reload()
        await page.wait_for_selector("body[data-conn=live]", timeout=30_000)
        await watch.assert_nothing_ran(page)
        other = await context.new_page()
        await other.goto(f"{desk.url}/")  # same browser context: the cookie lets it in
        await other.wait_for_selector("body[data-conn=live]", timeout=30_000)
        fresh = await browser.new_page()
        await fresh.goto(f"{desk.url}/")  # a new context has no cookie: the login form
        assert fresh.url == f"{desk.url}/login"
