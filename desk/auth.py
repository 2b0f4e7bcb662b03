"""The optional desk token (``WATCHFLOOR_WEB_TOKEN``) and the security headers of every response.

With a token set, a request is let in when it carries one of:

- ``Authorization: Bearer <token>`` (scripts, Prometheus-style clients);
- the session cookie, which a browser gets by opening ``/?token=<token>`` once (the server answers
  with the cookie and a redirect to ``/``, so the token leaves the address bar and history) or by
  submitting the form at ``/login``. The cookie is HttpOnly and SameSite=Strict and holds an HMAC
  of the token, never the token itself;
- ``?token=<token>`` on a GET (feed readers can keep it in the feed URL).

``/healthz``, ``/metrics``, ``/login`` and ``/static/`` stay open: they carry no alert content.
A cookie-authenticated POST must come from the desk's own origin (no cross-site acknowledgements).
"""

from __future__ import annotations

import hashlib
import hmac

from aiohttp import web
from pydantic import SecretStr

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
            origin = request.headers.get("Origin")
            if request.method not in ("GET", "HEAD") and origin and origin != f"{request.scheme}://{request.host}":
                raise web.HTTPForbidden(text="cross-origin request refused\n")
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


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    # The desk's address (and a ?token=) never travels to the sites it links to.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Cache-Control", "no-store")
