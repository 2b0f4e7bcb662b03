"""Who can reach the desk and change what (docs/security.md): tokens too short to protect anything
are refused at start, other origins and unknown host names are refused whether or not a token is set,
a desk bound beyond loopback needs a token or a trusted network, and behind an HTTPS proxy the
session cookie is Secure and same-origin acknowledgements pass."""

from __future__ import annotations

import aiohttp
import pytest
from pydantic import SecretStr

from core.errors import ConfigError
from core.settings import load_settings
from desk.service import Desk

TOKEN = "a-desk-token-of-32-characters-xx"


def _desk(settings, **changes) -> Desk:
    return Desk(settings.model_copy(update={"web_port": 0, **changes}), targets=[], consume=False)


@pytest.mark.parametrize("token", ["", "   ", "short-token-15ch"[:15]])
def test_an_empty_or_short_desk_token_is_refused_at_start_with_one_line(monkeypatch, token):
    monkeypatch.setenv("WATCHFLOOR_WEB_TOKEN", token)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    message = str(refused.value)
    assert message.startswith("invalid setting WATCHFLOOR_WEB_TOKEN: ") and "at least 16 characters" in message
    assert "\n" not in message and (not token.strip() or token not in message)


def test_a_non_loopback_address_needs_a_token_or_a_trusted_network():
    with pytest.raises(ConfigError) as refused:
        load_settings(web_host="0.0.0.0")
    assert "WATCHFLOOR_WEB_TOKEN" in str(refused.value) and "WATCHFLOOR_WEB_TRUSTED_NETWORK" in str(refused.value)
    assert load_settings(web_host="0.0.0.0", web_token=TOKEN).web_host == "0.0.0.0"
    assert load_settings(web_host="0.0.0.0", web_trusted_network=True).web_trusted_network
    assert load_settings(web_host="127.0.0.1").web_token is None


async def test_other_origins_cannot_change_anything_even_without_a_token(settings):
    async with _desk(settings) as desk, aiohttp.ClientSession() as session:
        ack = f"{desk.url}/api/alerts/missing/ack"
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        async with session.post(ack, headers={"Origin": "https://evil.example", **form}, data="by=x") as r:
            assert r.status == 403
        async with session.post(ack, headers={"Origin": "null"}, json={}) as r:
            assert r.status == 403
        async with session.post(ack, headers={"Sec-Fetch-Site": "cross-site"}, json={}) as r:
            assert r.status == 403
        async with session.post(ack, headers={"Origin": desk.url, **form}, data="by=x") as r:
            assert r.status == 415
        async with session.post(ack, headers={"Origin": desk.url, "Content-Type": "text/plain"}, data="{}") as r:
            assert r.status == 415
        async with session.post(ack, headers={"Origin": desk.url}, json={"by": "ana"}) as r:
            assert r.status == 404  # let through; that alert does not exist
        async with session.post(ack, json={}) as r:  # a script, not a browser: no Origin, no Sec-Fetch-Site
            assert r.status == 404


async def test_unknown_host_names_are_refused_against_dns_rebinding(settings):
    async with _desk(settings, web_allowed_hosts=["desk.example"]) as desk, aiohttp.ClientSession() as session:
        api = f"{desk.url}/api/alerts"
        for rebound in ("rebind.attacker.example", f"127.0.0.1.rebind.example:{desk.port}", "127.evil.example"):
            async with session.get(api, headers={"Host": rebound}) as r:
                assert r.status == 421 and "WATCHFLOOR_WEB_ALLOWED_HOSTS" in await r.text(), rebound
        for host in (f"localhost:{desk.port}", f"127.0.0.1:{desk.port}", f"127.1.2.3:{desk.port}", "desk.example",
                     f"DESK.example:{desk.port}"):
            async with session.get(api, headers={"Host": host}) as r:
                assert r.status == 200, host


async def test_behind_a_trusted_https_proxy_the_cookie_is_secure_and_acknowledgements_pass(settings):
    proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "desk.example"}
    async with _desk(settings, web_token=SecretStr(TOKEN), web_trusted_proxy=True,
                     web_allowed_hosts=["desk.example"]) as desk, \
            aiohttp.ClientSession() as session:
        async with session.get(f"{desk.url}/", params={"token": TOKEN}, headers=proxy, allow_redirects=False) as r:
            assert r.status == 303 and "Secure" in r.headers["Set-Cookie"]
        bearer = {"Authorization": f"Bearer {TOKEN}", **proxy}
        async with session.post(f"{desk.url}/api/alerts/missing/ack", json={},
                                headers={"Origin": "https://desk.example", **bearer}) as r:
            assert r.status == 404
        async with session.post(f"{desk.url}/api/alerts/missing/ack", json={},
                                headers={"Origin": f"http://127.0.0.1:{desk.port}", **bearer}) as r:
            assert r.status == 403
    async with _desk(settings, web_token=SecretStr(TOKEN)) as desk, aiohttp.ClientSession() as session:
        # Without the setting the forwarded headers are not believed.
        async with session.get(f"{desk.url}/", params={"token": TOKEN}, headers=proxy, allow_redirects=False) as r:
            assert r.status == 421 or "Secure" not in r.headers["Set-Cookie"]
