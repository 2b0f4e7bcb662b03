"""A stage whose outputs the broker does not acknowledge (an outage longer than the producer's
request timeout) keeps them and tries again with backoff, and commits only once they are in."""

from __future__ import annotations

import asyncio

from aiokafka.errors import KafkaTimeoutError, RequestTimedOutError
from prometheus_client import CollectorRegistry

from core.metrics import WorkerMetrics
from core.settings import Settings
from streams.stage import BatchStage, Output


class FlakyBroker(BatchStage):
    """A stage whose deliveries fail ``failures`` times, as a producer does while the broker is away."""

    def __init__(self, failures: int, **kwargs):
        super().__init__(Settings(kafka_bootstrap="127.0.0.1:9"), source_topic="in", group_id="g", producer=None,
                         deadletter_topic="dead", metrics=WorkerMetrics(CollectorRegistry()), **kwargs)
        self.failures = failures
        self.delivered: list[list[Output]] = []

    async def deliver(self, outputs):
        if self.failures:
            self.failures -= 1
            raise (KafkaTimeoutError if self.failures % 2 else RequestTimedOutError)()
        self.delivered.append(outputs)

    async def sleep(self, seconds):  # the backoff, without the wall-clock wait
        await asyncio.sleep(0)


class Committer:
    def __init__(self):
        self.commits = []

    async def commit(self, offsets):
        self.commits.append(offsets)


async def test_unacknowledged_outputs_are_retried_until_the_broker_takes_them_then_committed():
    stage = FlakyBroker(failures=5, loop=asyncio.get_running_loop())
    stage.consumer = Committer()
    outputs = [Output("out", b"k", b"v")]
    await stage._finish(outputs, {"tp": 42})
    assert stage.delivered == [outputs] and stage.failures == 0
    assert stage.consumer.commits == [{"tp": 42}]
