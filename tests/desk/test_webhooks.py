"""Webhooks: signed JSON to a real local receiver, filters, retry with backoff, give-up, the
delivery log across a desk restart, and config errors that never show a secret."""

from __future__ import annotations

import json
import logging
import time

import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from standardwebhooks import Webhook

from core.errors import ConfigError
from core.metrics import DeskMetrics
from core.netpolicy import AddressPolicy
from desk.service import Desk
from desk.store import AlertStore
from desk.webhooks import WebhookDispatcher, WebhookTarget, load_webhooks, standard_headers, verify
from schemas import Alert, WebhookEndpoint
from schemas.classified import ThemeHit
from tests.conftest import LOCAL, wait_until
from tests.desk.alerts import make_alert, produce_alerts
from tests.desk.receiver import WebhookReceiver

SECRETS = {"ops": "s3cret-ops-Zq9-long-enough", "chat": "whsec_c2VjcmV0LWNoYXQtWHY0LWxvbmctZW5vdWdo"}


def target(receiver: WebhookReceiver, name: str, **options) -> WebhookTarget:
    fields = {"backoff_initial_secs": 0.05, "backoff_max_secs": 0.2, "timeout_secs": 2.0, **options}
    endpoint = WebhookEndpoint(name=name, url=receiver.url(name), secret_env=f"HOOK_{name.upper()}", **fields)
    return WebhookTarget(endpoint, SecretStr(SECRETS[name]))


async def test_each_endpoint_gets_the_alerts_its_filters_select_signed_over_the_exact_body(tmp_path):
    high = make_alert(severity="high")
    referendum = make_alert(severity="info", themes=[ThemeHit(theme="referendum", score=2)])
    both = make_alert(severity="critical", themes=[ThemeHit(theme="referendum", score=4)])
    async with WebhookReceiver(SECRETS) as receiver:
        store = AlertStore(tmp_path / "desk.sqlite3")
        targets = [target(receiver, "ops", min_severity="high"), target(receiver, "chat", themes=["Referendum"])]
        dispatcher = WebhookDispatcher(store, targets, DeskMetrics(CollectorRegistry()), policy=LOCAL)
        for alert in (high, referendum, both):
            store.add(alert, dispatcher.endpoints_for(alert))
        await dispatcher.start()
        try:
            await wait_until(lambda: len(receiver.delivered("ops")) == 2 and len(receiver.delivered("chat")) == 2,
                             10, "4 deliveries")
        finally:
            await dispatcher.stop()
    assert sorted(receiver.delivered("ops")) == sorted([high.alert_id, both.alert_id])
    assert sorted(receiver.delivered("chat")) == sorted([referendum.alert_id, both.alert_id])
    for request in receiver.received["ops"] + receiver.received["chat"]:
        assert request.signature_ok
        assert Alert.from_bytes(request.body).alert_id == request.alert_id
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["webhook-timestamp"].isdigit()
        assert request.headers["webhook-id"] == request.alert_id
    # A receiver holding the other endpoint's secret rejects the signature.
    sample = receiver.received["ops"][0]
    assert not verify(sample.body, sample.headers, SECRETS["chat"])
    # A standard Standard Webhooks library verifies a delivery with the endpoint's whsec_ secret as is.
    chat = receiver.received["chat"][0]
    assert Webhook(SECRETS["chat"]).verify(chat.body, chat.headers, json_parse=False) is None


def test_a_captured_delivery_cannot_be_replayed_later_or_with_another_body():
    alert = make_alert()
    body = alert.model_dump_json().encode()
    secret = SecretStr(SECRETS["ops"])
    fresh = standard_headers(alert.alert_id, body, secret)
    assert verify(body, fresh, SECRETS["ops"])
    assert not verify(body.replace(b"}", b" }", 1), fresh, SECRETS["ops"])  # body changed
    assert not verify(body, {**fresh, "webhook-id": "another"}, SECRETS["ops"])  # id changed
    assert not verify(body, {**fresh, "webhook-timestamp": str(int(time.time()) + 1)}, SECRETS["ops"])
    captured = standard_headers(alert.alert_id, body, secret, now=time.time() - 6 * 60)
    assert not verify(body, captured, SECRETS["ops"])  # replayed after the 5-minute window


def test_a_webhook_secret_shorter_than_16_characters_is_refused_without_showing_it(tmp_path, monkeypatch):
    path = tmp_path / "webhooks.yaml"
    path.write_text("webhooks:\n  - {name: ops, url: 'https://hooks.example/x', secret_env: HOOK_SHORT}\n")
    monkeypatch.setenv("HOOK_SHORT", "short-secret")
    with pytest.raises(ConfigError) as refused:
        load_webhooks(path)
    assert "at least 16 characters" in str(refused.value) and "short-secret" not in str(refused.value)


async def test_failures_are_retried_with_backoff_recorded_and_never_logged_with_secrets(tmp_path, caplog):
    alert, doomed, refused = make_alert(), make_alert(), make_alert()
    caplog.set_level(logging.INFO)
    async with WebhookReceiver(SECRETS, script={"ops": [503, 0, 200], "chat": [500, 500, 500]}) as receiver:
        store = AlertStore(tmp_path / "desk.sqlite3")
        registry = CollectorRegistry()
        ops = target(receiver, "ops", timeout_secs=0.3)
        chat = target(receiver, "chat", max_attempts=3)
        dispatcher = WebhookDispatcher(store, [ops, chat], DeskMetrics(registry), policy=LOCAL)
        store.add(alert, ["ops"])
        store.add(doomed, ["chat"])
        await dispatcher.start()
        try:
            await wait_until(lambda: store.delivery(alert.alert_id, "ops").state == "delivered", 10, "ops delivery")
            await wait_until(lambda: store.delivery(doomed.alert_id, "chat").state == "failed", 10, "chat give-up")
            receiver.script["ops"] = [404]
            store.add(refused, ["ops"])
            dispatcher.notify()
            await wait_until(lambda: store.delivery(refused.alert_id, "ops").state == "failed", 10, "404 give-up")
        finally:
            await dispatcher.stop()
    ok, failed, gone = (store.delivery(alert.alert_id, "ops"), store.delivery(doomed.alert_id, "chat"),
                        store.delivery(refused.alert_id, "ops"))
    assert (ok.attempts, ok.last_error) == (3, None)  # 503, then a timeout, then 200
    assert (failed.attempts, failed.last_error) == (3, "HTTP 500")
    assert (gone.attempts, gone.last_error) == (1, "HTTP 404")  # a 4xx is not retried
    samples = {sample.labels["outcome"]: sample.value for family in registry.collect()
               for sample in family.samples if sample.name == "watchfloor_webhook_deliveries_total"}
    assert samples == {"delivered": 1, "retry": 4, "failed": 2}
    assert receiver.received["ops"][0].headers["X-Watchfloor-Attempt"] == "1"
    assert [r.headers["X-Watchfloor-Attempt"] for r in receiver.received["ops"][:3]] == ["1", "2", "3"]
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("desk"))
    assert "Webhook ops failed" in ours and "Webhook chat gave up" in ours
    for secret in SECRETS.values():
        assert secret not in ours
    assert "/hook/" not in ours  # URLs may carry credentials: logs name the endpoint only


async def test_no_alert_is_delivered_twice_across_a_desk_restart_and_a_full_replay(settings, topics):
    first = [make_alert() for _ in range(3)]
    late = make_alert()
    async with WebhookReceiver(SECRETS) as receiver:
        targets = [target(receiver, "ops")]
        web = settings.model_copy(update={"web_port": 0})
        await produce_alerts(settings, topics["alerts"], first)
        # A slow retry schedule, so that the desk stops while the failed `late` delivery waits.
        slow_retry = [target(receiver, "ops", backoff_initial_secs=60)]
        async with Desk(web, targets=slow_retry, group_id="desk-1"):
            await wait_until(lambda: len(receiver.delivered("ops")) == 3, 30, "3 deliveries")
            receiver.script["ops"] = [503]
            await produce_alerts(settings, topics["alerts"], [late])
            await wait_until(lambda: len(receiver.received.get("ops", [])) == 4, 30, "the failing attempt")
        # Restart with a fresh group: every alert on the topic arrives again; only `late` is owed.
        async with Desk(web, targets=targets, group_id="desk-2") as desk:
            await wait_until(lambda: len(receiver.delivered("ops")) == 4, 30, "the retried delivery")
            await produce_alerts(settings, topics["alerts"], [sentinel := make_alert()])
            await wait_until(lambda: len(receiver.delivered("ops")) == 5, 30, "the sentinel")
            await wait_until(lambda: caught_up(desk), 30, "the replay to be stored")
            log = desk.store.delivery(late.alert_id, "ops")
    delivered = receiver.delivered("ops")
    assert sorted(delivered) == sorted(a.alert_id for a in [*first, late, sentinel])
    assert len(set(delivered)) == len(delivered)
    assert (log.state, log.attempts) == ("delivered", 2)
    assert all(r.signature_ok for r in receiver.received["ops"])


async def caught_up(desk: Desk) -> bool:
    return await desk.feed.lag() == 0


def test_webhooks_file_resolves_secrets_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "webhooks.yaml"
    path.write_text("webhooks:\n  - name: ops\n    url: https://hooks.example.net/T0/B0/xyz\n"
                    "    secret_env: WF_TEST_HOOK\n    min_severity: high\n    themes: [sanctions]\n")
    monkeypatch.setenv("WF_TEST_HOOK", "from-the-env-9f-long-enough")
    [loaded] = load_webhooks(path)
    assert loaded.secret.get_secret_value() == "from-the-env-9f-long-enough"
    assert loaded.wants(make_alert(severity="critical")) and not loaded.wants(make_alert(severity="warning"))
    assert "from-the-env-9f" not in repr(loaded)


@pytest.mark.parametrize("text, expected", [
    ("webhooks:\n  - name: ops\n    url: https://h.example/x\n    secret_env: WF_UNSET_HOOK\n",
     "webhook ops: environment variable WF_UNSET_HOOK is not set or empty"),
    ("webhooks:\n  - name: ops\n    url: javascript:alert(1)\n    secret_env: WF_TEST_HOOK\n",
     "webhooks.0.url: Value error, must be an absolute http or https URL"),
    ("webhooks:\n  - name: ops\n    url: https://h.example/x\n    secret_env: WF_TEST_HOOK\n    secret: inline\n",
     "webhooks.0.secret: Extra inputs are not permitted"),
    ("webhooks: [\n", "not valid YAML"),
])
def test_a_bad_webhooks_file_is_one_line_naming_the_field(tmp_path, monkeypatch, text, expected):
    monkeypatch.setenv("WF_TEST_HOOK", "x-secret-long-enough-16")
    path = tmp_path / "webhooks.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_webhooks(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ") and expected in message and "\n" not in message
    assert "inline" not in message


def test_webhook_body_is_the_alert_json_with_untrusted_text_escaped(tmp_path):
    hostile = make_alert(title='</script><img src=x onerror="alert(1)">\u2028"quoted"\x00')
    store = AlertStore(tmp_path / "desk.sqlite3")
    stored = store.add(hostile, ["ops"])
    decoded = json.loads(stored.body)
    assert decoded["title"] == hostile.title  # carried as data, losslessly
    assert "\x00" not in stored.body  # control characters are JSON escapes, not raw bytes


async def test_a_receiver_answering_a_huge_body_costs_the_desk_a_few_kilobytes(tmp_path):
    written = []

    async def huge(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/octet-stream"})
        await response.prepare(request)
        chunk, sent = b"x" * (1 << 20), 0
        try:
            while sent < (256 << 20):
                await response.write(chunk)
                sent += len(chunk)
        except (ConnectionResetError, ConnectionError, RuntimeError):
            pass
        written.append(sent)
        return response

    app = web.Application()
    app.router.add_post("/hook/ops", huge)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    alert = make_alert()
    store = AlertStore(tmp_path / "desk.sqlite3")
    endpoint = WebhookEndpoint(name="ops", url=f"http://127.0.0.1:{port}/hook/ops", secret_env="HOOK_OPS",
                               timeout_secs=20.0)
    dispatcher = WebhookDispatcher(store, [WebhookTarget(endpoint, SecretStr(SECRETS["ops"]))],
                                   DeskMetrics(CollectorRegistry()), policy=LOCAL)
    store.add(alert, ["ops"])
    await dispatcher.start()
    try:
        await wait_until(lambda: store.delivery(alert.alert_id, "ops").state == "delivered", 20, "the delivery")
        await wait_until(lambda: written, 20, "the receiver to notice the hang-up")
    finally:
        await dispatcher.stop()
        await runner.cleanup()
    assert written[0] < (32 << 20), f"the desk read {written[0] >> 20} MB of the answer"


async def test_an_outage_on_some_deliveries_does_not_hold_up_the_rest_of_a_long_outbox(tmp_path):
    """Deliveries past the first page go without a new alert to wake the dispatcher, and the ones
    that keep failing wait out their own backoff while the others are delivered."""
    alerts = [make_alert() for _ in range(700)]
    failing = {a.alert_id for a in alerts[:10]}
    got: set[str] = set()

    async def handle(request: web.Request) -> web.Response:
        alert_id = request.headers["webhook-id"]
        await request.read()
        if alert_id in failing:
            return web.Response(status=503)
        got.add(alert_id)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook/ops", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    store = AlertStore(tmp_path / "desk.sqlite3")
    store.add_many([(a, ["ops"]) for a in alerts])
    endpoint = WebhookEndpoint(name="ops", url=f"http://127.0.0.1:{port}/hook/ops", secret_env="HOOK_OPS",
                               backoff_initial_secs=30.0, backoff_max_secs=60.0, max_attempts=5)
    dispatcher = WebhookDispatcher(store, [WebhookTarget(endpoint, SecretStr(SECRETS["ops"]))],
                                   DeskMetrics(CollectorRegistry()), policy=LOCAL)
    await dispatcher.start()
    try:
        await wait_until(lambda: len(got) == 690, 60, "every delivery that can go")
    finally:
        await dispatcher.stop()
        await runner.cleanup()
    assert all(store.delivery(a, "ops").state == "pending" for a in failing)
    assert store.next_due("ops") is not None


async def test_a_webhook_to_a_non_public_address_is_refused_unless_allowed(tmp_path):
    alert = make_alert()
    async with WebhookReceiver(SECRETS) as receiver:
        store = AlertStore(tmp_path / "desk.sqlite3")
        store.add(alert, ["ops"])
        dispatcher = WebhookDispatcher(store, [target(receiver, "ops", max_attempts=1)],
                                       DeskMetrics(CollectorRegistry()), policy=AddressPolicy())
        await dispatcher.start()
        try:
            await wait_until(lambda: store.delivery(alert.alert_id, "ops").state == "failed", 10, "the refusal")
        finally:
            await dispatcher.stop()
    assert "not a public address" in store.delivery(alert.alert_id, "ops").last_error
    assert receiver.received == {}
