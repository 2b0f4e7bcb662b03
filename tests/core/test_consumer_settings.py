"""Grouped consumers take their session timeout from the settings: the embedded broker holds every
group join for half of it, so it sets how long a worker or desk takes to start and to fail over."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.kafka import make_consumer
from core.settings import Settings

DEFAULT_CONSUMER_SESSION_MS = 10_000  # aiokafka's own default


async def test_a_grouped_consumer_takes_the_session_timeout_setting_and_an_override_wins():
    settings = Settings(kafka_bootstrap="127.0.0.1:9", kafka_session_timeout_ms=7_000)
    grouped = make_consumer(settings, group_id="g")
    assert (grouped._session_timeout_ms, grouped._heartbeat_interval_ms) == (7_000, 1_000)
    overridden = make_consumer(settings, group_id="g", session_timeout_ms=12_000, heartbeat_interval_ms=3_000)
    assert (overridden._session_timeout_ms, overridden._heartbeat_interval_ms) == (12_000, 3_000)
    # A consumer without a group never joins one: it keeps the client's defaults.
    assert make_consumer(settings, group_id=None)._session_timeout_ms == DEFAULT_CONSUMER_SESSION_MS


def test_a_session_timeout_below_six_heartbeats_is_refused_naming_the_setting():
    with pytest.raises(ValidationError, match="kafka_session_timeout_ms"):
        Settings(kafka_session_timeout_ms=5_000)
