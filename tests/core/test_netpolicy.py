"""The address policy of outbound HTTP (core/netpolicy.py): loopback, private, link-local and metadata
addresses are refused unless allowed by network or name, on every hop, for feeds and webhooks."""

from __future__ import annotations

import pytest
from aiohttp import web

from connectors.errors import FetchError
from connectors.http import fetch, make_session
from core.netpolicy import AddressPolicy
from tests.connectors.rss_helpers import rss, serve

FEED = rss(("a-1", "Title", "Text"))


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "::1", "fc00::1", "fe80::1", "::ffff:127.0.0.1"])
def test_non_public_addresses_are_refused_by_default(address):
    assert not AddressPolicy().allows_ip(address)


def test_public_addresses_and_allowed_networks_pass():
    policy = AddressPolicy(["10.2.0.0/16", "feeds.internal"])
    assert policy.allows_ip("93.184.216.34") and policy.allows_ip("2606:4700::1111")
    assert policy.allows_ip("10.2.7.7") and not policy.allows_ip("10.3.7.7")
    assert "feeds.internal" in policy.names


async def _fetch(url: str, policy: AddressPolicy) -> bytes:
    async with make_session(policy=policy) as session:
        return (await fetch(session, url, name="probe")).body


async def test_a_local_feed_is_refused_by_default_by_address_and_by_name_and_allowed_by_a_setting():
    async with serve({"/feed": lambda r: web.Response(body=FEED, content_type="application/rss+xml")}) as base:
        port = base.rsplit(":", 1)[1]
        with pytest.raises(FetchError, match="127.0.0.1 is not a public address"):
            await _fetch(f"{base}/feed", AddressPolicy())
        with pytest.raises(FetchError, match="localhost resolves to non-public"):
            await _fetch(f"http://localhost:{port}/feed", AddressPolicy())
        assert await _fetch(f"{base}/feed", AddressPolicy(["127.0.0.1/32"])) == FEED
        assert await _fetch(f"http://localhost:{port}/feed", AddressPolicy(["localhost"])) == FEED


async def test_every_redirect_hop_is_checked():
    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async with serve({"/moved": moved, "/feed": lambda r: web.Response(body=FEED)}) as base:
        port = base.rsplit(":", 1)[1]
        allowed = AddressPolicy(["127.0.0.1/32"])
        assert await _fetch(f"{base}/moved?to=/feed", allowed) == FEED
        for target in (f"http://127.0.0.2:{port}/feed", "http://169.254.169.254/latest/meta-data/",
                       f"http://[::1]:{port}/feed"):
            with pytest.raises(FetchError, match="not a public address"):
                await _fetch(f"{base}/moved?to={target}", allowed)
