"""Where outbound HTTP may go: public addresses, plus the networks and host names an operator allows.

A feed or a webhook URL comes from configuration, a sources topic or a redirect, so any of them can
point at ``localhost``, a private network or a cloud metadata address. ``AddressPolicy`` refuses
those unless ``WATCHFLOOR_FETCH_ALLOWED_NETWORKS`` names them (internal feeds, the demo). It is
checked at the moment of connecting, on the addresses the connection will use, for every hop:

- host names through ``PolicyResolver``, the session's resolver, which drops refused addresses (so
  a name that resolves to a public and a private address can only reach the public one, and a DNS
  answer cannot change between the check and the connection);
- address literals (``http://127.0.0.1/``), which aiohttp does not resolve, by a request hook.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class AddressRefused(aiohttp.ClientConnectionError):
    """A destination the address policy does not allow; the message names the host and why."""


class AddressPolicy:
    """Public (globally routable) addresses, plus ``allowed`` networks (CIDR) and host names."""

    def __init__(self, allowed: Iterable[str] = ()):
        self.networks: list[Network] = []
        self.names: set[str] = set()
        for entry in allowed:
            entry = entry.strip().lower()
            if not entry:
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.names.add(entry.rstrip("."))

    def allows_ip(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if getattr(ip, "ipv4_mapped", None):
            ip = ip.ipv4_mapped
        return ip.is_global or any(ip in net for net in self.networks if net.version == ip.version)

    def check_host(self, host: str) -> None:
        """Refuse an address literal the policy does not allow (names are checked when resolved)."""
        host = host.strip("[]").lower()
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return
        if not self.allows_ip(host):
            raise AddressRefused(f"{host} is not a public address; allow it with WATCHFLOOR_FETCH_ALLOWED_NETWORKS")

    def resolver(self) -> PolicyResolver:
        return PolicyResolver(self)

    def trace_config(self) -> aiohttp.TraceConfig:
        async def on_request_start(session, context, params) -> None:
            self.check_host(urlsplit(str(params.url)).hostname or "")

        trace = aiohttp.TraceConfig()
        trace.on_request_start.append(on_request_start)
        return trace

    def session(self, *, limit: int = 32, **options) -> aiohttp.ClientSession:
        """An ``aiohttp.ClientSession`` that can reach only what this policy allows."""
        connector = aiohttp.TCPConnector(limit=limit, ttl_dns_cache=300, resolver=self.resolver())
        return aiohttp.ClientSession(connector=connector, trace_configs=[self.trace_config()], **options)


class PolicyResolver(AbstractResolver):
    """The default resolver, keeping only the addresses the policy allows."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None):
        self.policy = policy
        self.inner = inner or aiohttp.DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET):
        found = await self.inner.resolve(host, port, family)
        if host.lower().rstrip(".") in self.policy.names:
            return found
        kept = [entry for entry in found if self.policy.allows_ip(entry["host"])]
        if not kept:
            shown = ", ".join(sorted({entry["host"] for entry in found}))[:200]
            raise AddressRefused(f"{host} resolves to non-public {shown}; allow it with "
                                 "WATCHFLOOR_FETCH_ALLOWED_NETWORKS")
        return kept

    async def close(self) -> None:
        await self.inner.close()
