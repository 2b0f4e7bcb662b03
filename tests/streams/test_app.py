"""The Faust app: a rebalance during shutdown leaves the consumer's Kafka client to the thread that
owns it (see ``streams.app.WorkerApp``)."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer

from streams.app import create_app


async def test_a_rebalance_while_stopping_does_not_close_the_consumer_from_the_main_loop(settings, topics):
    app = create_app(settings, app_id=f"{settings.topic_prefix}app-test".replace(".", "-"))
    # The consumer Faust's thread would own: a real one, joined to a group on the broker.
    kafka = AIOKafkaConsumer(topics["items_raw"], bootstrap_servers=settings.kafka_bootstrap,
                             group_id=f"{settings.topic_prefix}app-test")
    await kafka.start()
    try:
        app.consumer._thread._consumer = kafka
        app._on_rebalance_when_stopped()
        # Faust's own version marks it closed here and schedules its client's close() on app.loop,
        # a loop that does not own the client's connections.
        assert not kafka._closed
        assert any(conn.connected() for conn in kafka._client._conns.values())
    finally:
        await kafka.stop()
    assert not any(conn.connected() for conn in kafka._client._conns.values())
