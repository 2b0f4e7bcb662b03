"""The optional desk token (``WATCHFLOOR_WEB_TOKEN``) and the security headers of every response.

With a token set, a request is let in when it carries one of:

- ``Authorization: Bearer <token>`` (scripts, Prometheus-style clients);
- the session cookie, which a browser gets by opening ``/?token=<token>`` once (the server answers
  with the cookie and a redirect to ``/``, so the token leaves the address bar and history) or by
  submitting the form at ``/login``. The cookie is HttpOnly and SameSite=Strict and holds an HMAC
  of the token, never the token itself;
- ``?token=<token>`` on a GET (feed readers can keep it in the feed URL).

``/healthz``, ``/metrics``, ``/login`` and ``/static/`` stay open: they carry no alert content.

Whether or not a token is set, ``make_guard_middleware`` protects the desk from other pages in the
same browser: a request whose ``Host`` is not one of the desk's names is refused (421; a DNS-rebinding
page reaches the port under its own name), and every state-changing request must come from the
desk's own origin (``Origin``, else ``Sec-Fetch-Site``) and, under ``/api/``, carry JSON (a form or a
``text/plain`` body, which a page may send cross-site without asking, is refused with 415). Behind a
trusted reverse proxy the scheme and host are taken from ``X-Forwarded-Proto``/``X-Forwarded-Host``
or ``Forwarded``, so the session cookie is ``Secure`` and the origin check compares ``https``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from aiohttp import web
from pydantic import SecretStr

from core.settings import is_loopback

COOKIE = "watchfloor_desk"
OPEN_PREFIXES = ("/healthz", "/metrics", "/login", "/static/")

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def session_value(token: SecretStr) -> str:
    return hmac.new(token.get_secret_value().encode(), b"watchfloor-desk-session", hashlib.sha256).hexdigest()


def _same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


def set_session(response: web.StreamResponse, request: web.Request, token: SecretStr) -> None:
    response.set_cookie(COOKIE, session_value(token), httponly=True, samesite="Strict", path="/",
                        secure=request.secure, max_age=30 * 86400)


def make_auth_middleware(token: SecretStr | None):
    @web.middleware
    async def auth(request: web.Request, handler):
        if token is None or request.path.startswith(OPEN_PREFIXES) or request.path == "/favicon.ico":
            return await handler(request)
        secret = token.get_secret_value()
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer ") and _same(header[7:].strip(), secret):
            return await handler(request)
        if _same(request.cookies.get(COOKIE), session_value(token)):
            return await handler(request)
        if request.method == "GET" and _same(request.query.get("token"), secret):
            if request.path == "/":
                response = web.HTTPSeeOther("/")
                set_session(response, request, token)
                raise response
            return await handler(request)
        if request.method == "GET" and request.path == "/":
            raise web.HTTPSeeOther("/login")
        raise web.HTTPUnauthorized(text="a desk token is required (Authorization: Bearer, or log in at /login)\n",
                                   headers={"WWW-Authenticate": 'Bearer realm="watchfloor"'})

    return auth


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
UNGUARDED_PATHS = ("/healthz", "/metrics")
SAME_SITE = ("same-origin", "none")  # Sec-Fetch-Site of the desk's own page, or a typed address


def allowed_host_names(web_host: str, extra: Iterable[str]) -> frozenset[str]:
    """The names the desk answers to besides loopback ones (``is_loopback``, checked apart): the
    address it binds (unless a wildcard) and the configured ones, lower-cased."""
    names = {n.strip().lower() for n in extra if n.strip()}
    if web_host not in ("0.0.0.0", "::", ""):
        names.add(web_host.lower())
    return frozenset(names)


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _behind_proxy(request: web.Request) -> web.Request:
    forwarded = request.forwarded[0] if request.forwarded else {}
    scheme = request.headers.get("X-Forwarded-Proto", forwarded.get("proto", "")).split(",")[0].strip().lower()
    host = request.headers.get("X-Forwarded-Host", forwarded.get("host", "")).split(",")[0].strip()
    changes = {}
    if scheme in ("http", "https"):
        changes["scheme"] = scheme
    if host:
        changes["host"] = host
    return request.clone(**changes) if changes else request


def make_guard_middleware(allowed_hosts: frozenset[str], trusted_proxy: bool = False):
    """Host, origin and content-type checks of every request (see the module docstring)."""

    @web.middleware
    async def guard(request: web.Request, handler):
        if trusted_proxy:
            request = _behind_proxy(request)
        host = _host_name(request.host)
        # Health and metrics carry no alert content and are scraped by service name (web:6066).
        if not (is_loopback(host) or host in allowed_hosts or request.path in UNGUARDED_PATHS):
            raise web.HTTPMisdirectedRequest(
                text=f"unknown host name {host!r}: add it to WATCHFLOOR_WEB_ALLOWED_HOSTS if the desk is reached so\n")
        if request.method not in SAFE_METHODS:
            origin = request.headers.get("Origin")
            own = f"{request.scheme}://{request.host}".lower()
            if origin is not None and origin.lower() != own:
                raise web.HTTPForbidden(text=f"cross-origin request refused (Origin {origin}, desk {own})\n")
            if origin is None and request.headers.get("Sec-Fetch-Site", "same-origin") not in SAME_SITE:
                raise web.HTTPForbidden(text="cross-site request refused (Sec-Fetch-Site)\n")
            if request.path.startswith("/api/") and request.content_type != "application/json":
                raise web.HTTPUnsupportedMediaType(text="this endpoint accepts application/json only\n")
        return await handler(request)

    return guard


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    # The desk's address (and a ?token=) never travels to the sites it links to.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Cache-Control", "no-store")
