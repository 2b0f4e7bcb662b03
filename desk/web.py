"""The desk's HTTP surface: the page, the JSON API, server-sent events, Atom, metrics, health."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import SecretStr

from core.metrics import DeskMetrics
from desk.atom import render_atom
from desk.auth import make_auth_middleware, make_guard_middleware, security_headers, set_session
from desk.filters import AlertFilter, FilterError
from desk.live import DeskEvent, LiveHub
from desk.store import VIEWS, AlertStore, StoredAlert, new_action

log = logging.getLogger(__name__)

STATIC_DIR = Path(str(resources.files("desk") / "static"))
KEEPALIVE_SECS = 15.0
MAX_LIMIT = 1000
MAX_ACK_BY = 80
FEEDBACK_VERDICTS = ("not_relevant",)
MAX_ACTION_ALERTS = 500


@dataclass
class DeskState:
    """What the handlers share; one per desk process."""

    store: AlertStore
    hub: LiveHub
    registry: CollectorRegistry
    metrics: DeskMetrics
    token: SecretStr | None = None
    consuming: bool = False
    """Whether this desk is meant to consume alerts; ``feed_running`` tells whether it does."""
    feed_running: Callable[[], bool] | None = None
    allowed_hosts: frozenset[str] = frozenset()
    trusted_proxy: bool = False
    share_actions: Callable[[], None] | None = None
    """Wakes the sender of the desk actions topic after an action was taken here (None: this desk
    shares its actions with no other)."""
    name: str | None = None
    """This desk process (host:port), recorded with the actions taken on it."""


DESK = web.AppKey("desk", DeskState)


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Access log without query strings: a ``?token=`` must never reach a log file."""

    def log(self, request, response, time: float) -> None:
        self.logger.info("%s %s %s -> %d in %.3fs", request.remote, request.method, request.path,
                         response.status, time)


def create_app(state: DeskState) -> web.Application:
    app = web.Application(middlewares=[make_guard_middleware(state.allowed_hosts, state.trusted_proxy),
                                       make_auth_middleware(state.token)])
    app[DESK] = state
    app.on_response_prepare.append(security_headers)
    app.router.add_get("/", _page)
    app.router.add_get("/login", _login_form)
    app.router.add_post("/login", _login)
    app.router.add_static("/static/", STATIC_DIR, append_version=False)
    app.router.add_get("/api/alerts", _list_alerts)
    app.router.add_get("/api/alerts/{alert_id}", _get_alert)
    app.router.add_post("/api/alerts/{alert_id}/ack", _ack)
    app.router.add_post("/api/alerts/{alert_id}/feedback", _feedback)
    app.router.add_post("/api/actions", _actions)
    app.router.add_get("/events", _events)
    app.router.add_get("/alerts.atom", _atom)
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/favicon.ico", _favicon)
    app.on_shutdown.append(_close_streams)
    return app


async def _close_streams(app: web.Application) -> None:
    app[DESK].hub.close()


def _filter(request: web.Request) -> AlertFilter:
    try:
        return AlertFilter.from_query(request.query)
    except FilterError as exc:
        raise web.HTTPBadRequest(text=f"{exc}\n") from None


def _limit(request: web.Request, default: int = 200) -> int:
    raw = request.query.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise web.HTTPBadRequest(text=f"limit: must be a whole number from 1 to {MAX_LIMIT}\n")
    return int(raw)


async def _page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "desk.html", headers={"Content-Type": "text/html; charset=utf-8"})


async def _list_alerts(request: web.Request) -> web.Response:
    state, flt, limit, view = request.app[DESK], _filter(request), _limit(request), _view(request)
    # last_seq is read before the query: an alert stored in between comes both in the list and
    # on /events?after=last_seq, and the page keeps one row per alert_id; the other order would
    # lose it.
    last_seq = await asyncio.to_thread(state.store.last_seq)
    alerts = await asyncio.to_thread(state.store.query, flt, limit, view)
    return web.json_response({"last_seq": last_seq, "alerts": [s.to_json() for s in alerts]})


def _view(request: web.Request) -> str:
    view = request.query.get("status", "all")
    if view not in VIEWS:
        raise web.HTTPBadRequest(text=f"status: must be one of {', '.join(VIEWS)}\n")
    return view


async def _get_alert(request: web.Request) -> web.Response:
    store, alert_id = request.app[DESK].store, request.match_info["alert_id"]
    stored = await asyncio.to_thread(store.get, alert_id)
    if stored is None:
        raise web.HTTPNotFound(text="no such alert\n")
    deliveries = await asyncio.to_thread(store.deliveries, alert_id)
    feedback = await asyncio.to_thread(store.feedback_for, alert_id)
    trail = await asyncio.to_thread(store.trail, alert_id)
    return web.json_response({**stored.to_json(), "feedback": feedback.to_json() if feedback else None, "deliveries": [
        {"endpoint": d.endpoint, "state": d.state, "attempts": d.attempts, "last_error": d.last_error,
         "delivered_at": d.delivered_at} for d in deliveries],
        "trail": [a.model_dump(mode="json", exclude={"schema_version"}) for a in trail]})


async def _body(request: web.Request, example: str) -> dict:
    """The JSON object of a request (empty without a body); 400 naming the field otherwise."""
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text=f"body: must be JSON like {example}\n") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text=f"body: must be a JSON object like {example}\n")
    by = body.get("by")
    if by is not None and (not isinstance(by, str) or len(by) > MAX_ACK_BY):
        raise web.HTTPBadRequest(text=f"by: must be a string of at most {MAX_ACK_BY} characters\n")
    return body


def _by(body: dict) -> str | None:
    return (body.get("by") or "").strip() or None


async def _ack(request: web.Request) -> web.Response:
    alert_id = request.match_info["alert_id"]
    body = await _body(request, '{"by": "name"}')
    return web.json_response((await _take(request, [alert_id], {"action": "ack", "by": _by(body)}))[0].to_json())


async def _feedback(request: web.Request) -> web.Response:
    """Record "not relevant" for an alert: a labelled example (``watchfloor feedback export``)."""
    state, alert_id = request.app[DESK], request.match_info["alert_id"]
    body = await _body(request, '{"verdict": "not_relevant", "by": "name"}')
    if body.get("verdict") not in FEEDBACK_VERDICTS:
        raise web.HTTPBadRequest(text=f"verdict: must be one of {', '.join(FEEDBACK_VERDICTS)}\n")
    await _take(request, [alert_id], {"action": body["verdict"], "by": _by(body)})
    recorded = await asyncio.to_thread(state.store.feedback_for, alert_id)
    return web.json_response(recorded.to_json())


async def _actions(request: web.Request) -> web.Response:
    """``{"alert_ids": [...], "action": "ack|assign|snooze|resolve|reopen|note|not_relevant", "by": "name",
    "value": "assignee or note", "until": "ISO time"}``: the same action on every alert of a row."""
    body = await _body(request, '{"alert_ids": ["..."], "action": "resolve", "by": "name"}')
    ids = body.get("alert_ids")
    if not isinstance(ids, list) or not ids or len(ids) > MAX_ACTION_ALERTS or not all(
            isinstance(i, str) and i for i in ids):
        raise web.HTTPBadRequest(text=f"alert_ids: must be a list of 1 to {MAX_ACTION_ALERTS} alert ids\n")
    fields = {k: body.get(k) for k in ("action", "value", "until")}
    fields["by"] = _by(body)
    taken = await _take(request, list(dict.fromkeys(ids)), fields)
    return web.json_response({"alerts": [s.to_json() for s in taken]})


async def _take(request: web.Request, alert_ids: list[str], fields: dict) -> list[StoredAlert]:
    """Apply one action to each alert, tell the live pages, wake the sharing with other desks; 404
    when an alert is unknown here, 400 naming the field an action gets wrong."""
    state = request.app[DESK]
    known = [await asyncio.to_thread(state.store.get, alert_id) for alert_id in alert_ids]
    if any(stored is None for stored in known):
        missing = [i for i, stored in zip(alert_ids, known) if stored is None]
        raise web.HTTPNotFound(text=f"no such alert: {', '.join(missing[:5])[:300]}\n")
    try:
        actions = [new_action(alert_id, desk=state.name, **fields) for alert_id in alert_ids]
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"{_first_error(exc)}\n") from None
    changed = await asyncio.to_thread(state.store.apply, actions)
    state.metrics.desk_actions.labels("taken").inc(len(actions))
    if changed:
        state.hub.publish("update", changed)
    if state.share_actions is not None:
        state.share_actions()
    by_id = {s.alert.alert_id: s for s in changed}
    return [by_id.get(s.alert.alert_id, s) for s in known]


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        return f"{field}: {first['msg']}"
    return str(exc)


def _resume_point(request: web.Request) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.query.get("after")
    return int(raw) if raw and raw.isdigit() else None


async def _events(request: web.Request) -> web.StreamResponse:
    state = request.app[DESK]
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    await response.prepare(request)
    sub = state.hub.subscribe()  # before the backlog read, so nothing falls in between
    state.metrics.desk_clients.inc()
    try:
        sent = _resume_point(request)
        if sent is None:
            sent = await asyncio.to_thread(state.store.last_seq)
        await response.write(b"retry: 2000\n\n")
        while backlog := await asyncio.to_thread(state.store.after, sent, 500):
            await response.write(b"".join(_alert_event(s) for s in backlog))
            sent = backlog[-1].seq
        while True:
            event = await sub.next(KEEPALIVE_SECS)
            if event is None:
                await response.write(b": keep-alive\n\n")
            elif event.kind != "alert" or event.stored.seq > sent:
                await response.write(event.encode())
                sent = max(sent, event.stored.seq) if event.kind == "alert" else sent
    except (EOFError, ConnectionResetError):
        pass
    finally:
        state.hub.unsubscribe(sub)
        state.metrics.desk_clients.dec()
    return response


def _alert_event(stored: StoredAlert) -> bytes:
    return DeskEvent("alert", stored).encode()


async def _atom(request: web.Request) -> web.Response:
    state, flt, limit = request.app[DESK], _filter(request), _limit(request, default=100)
    alerts = await asyncio.to_thread(state.store.query, flt, limit)
    base = f"{request.scheme}://{request.host}"
    return web.Response(body=render_atom(alerts, flt, base), content_type="application/atom+xml", charset="utf-8")


async def _metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[DESK].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _favicon(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMovedPermanently("/static/favicon.svg")


async def _healthz(request: web.Request) -> web.Response:
    state = request.app[DESK]
    consuming = state.consuming and state.feed_running is not None and state.feed_running()
    degraded = state.consuming and not consuming
    return web.json_response({"status": "degraded" if degraded else "ok", "consuming": consuming,
                              "clients": len(state.hub), "last_seq": await asyncio.to_thread(state.store.last_seq)},
                             status=503 if degraded else 200)


_LOGIN = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>watchfloor desk: log in</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/desk.css"></head><body class="login"><form method="post" action="/login">
<h1>watchfloor desk</h1><p>{message}</p><label>Desk token <input type="password" name="token" autofocus
autocomplete="current-password"></label><button type="submit">Open the desk</button></form></body></html>"""


async def _login_form(request: web.Request) -> web.Response:
    return web.Response(text=_LOGIN.format(message="This desk needs its token."), content_type="text/html")


async def _login(request: web.Request) -> web.StreamResponse:
    token = request.app[DESK].token
    form = await request.post()
    given = form.get("token")
    if token is None or (isinstance(given, str) and given and _matches(given, token)):
        response = web.HTTPSeeOther("/")
        if token is not None:
            set_session(response, request, token)
        raise response
    return web.Response(status=401, text=_LOGIN.format(message="That token is not right."), content_type="text/html")


def _matches(given: str, token: SecretStr) -> bool:
    return hmac.compare_digest(given.encode(), token.get_secret_value().encode())
