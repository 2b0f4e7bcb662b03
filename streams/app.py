"""The Faust application. ``create_app(settings)`` builds it; nothing is built at import time, so
tests and the CLI hand in their own settings. It hosts the batched stages as a service
(``streams.pipeline.Pipeline``, attached by ``streams.worker``) and the surge agent
(``streams.alerts.surge``)."""

from __future__ import annotations

import ssl

import faust

from core.kafka import HEARTBEAT_MS, bootstrap_servers, worker_app_id
from core.settings import Settings


def broker_credentials(settings: Settings):
    if settings.kafka_sasl_mechanism:
        password = settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
        context = None
        if settings.kafka_security_protocol == "SASL_SSL":
            context = ssl.create_default_context(
                cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
            )
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username or "", password=password,
            mechanism=settings.kafka_sasl_mechanism, ssl_context=context,
        )
    if settings.kafka_security_protocol == "SSL":
        return ssl.create_default_context(
            cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
        )
    return None


class WorkerApp(faust.App):
    """``faust.App`` with one shutdown race removed.

    When a rebalance arrives while the app is stopping (a group that lost its members in a broker
    outage rebalances as soon as the broker answers again), Faust 0.15 calls ``consumer.close()``,
    which runs the Kafka client's ``close()`` on the app's main event loop. That client belongs to the
    consumer thread's loop, which may be connecting or closing the same connections at that moment:
    the two interleave and the thread dies with ``AttributeError: 'NoneType' object has no attribute
    'done'`` in aiokafka's ``conn.close``. It also marks the consumer closed, so its own ``stop()``
    skips leaving the group. The app is stopping anyway, and stopping the consumer thread (the next
    step of the same shutdown) closes the client on the loop that owns it and leaves the group; so
    here the rebalance is only logged.
    """

    def _on_rebalance_when_stopped(self) -> None:
        self.log.info("Rebalance while stopping: the consumer thread closes its client as it stops")


def create_app(settings: Settings, *, app_id: str | None = None) -> faust.App:
    brokers = ";".join(f"kafka://{b}" for b in bootstrap_servers(settings).split(","))
    app = WorkerApp(
        app_id or worker_app_id(settings),
        broker=brokers,
        broker_credentials=broker_credentials(settings),
        datadir=str(settings.data_dir / "faust"),
        store="memory://",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=True,
        web_enabled=False,
        autodiscover=False,
        # The embedded broker has no transactions, and Faust's exactly-once has open bugs.
        processing_guarantee="at_least_once",
        # The embedded broker holds a group join for half the session timeout. With Faust's 60 s
        # default an agent sat idle for 30 s after start, and a worker stopped within that time
        # waited for the join to end before it could leave (15 s, then killed). The stages use the
        # same setting (``core.kafka.make_consumer``).
        broker_session_timeout=settings.kafka_session_timeout_ms / 1000,
        broker_heartbeat_interval=HEARTBEAT_MS / 1000,
    )
    return app
