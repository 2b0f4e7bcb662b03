"""One poison message in every hundred, at volume: every good item is classified, every poison
message is in the dead letters (once, with its reason), and nothing else is."""

from __future__ import annotations

import json

from tests.conftest import consume_until
from tests.streams.conftest import make_item, produce
from tests.streams.test_pipeline import NUCLEAR, SANCTIONS, UNRELATED

MESSAGES = 1000


def poison(n: int, good: bytes) -> tuple[bytes, bytes, str]:
    """(key, value, expected reason) of the n-th poison message; three kinds in turn."""
    kinds = [
        (b"{not json at all", "undecodable"),
        (json.dumps({**json.loads(good), "source_type": "fax"}).encode(), "invalid"),
        (json.dumps({**json.loads(good), "schema_version": 99}).encode(), "unsupported_version"),
    ]
    value, reason = kinds[n % 3]
    return f"poison-{n}".encode(), value, reason


async def test_one_poison_message_per_hundred_goes_to_dead_letters_and_every_good_one_is_classified(
        settings, topics, run_pipeline):
    await run_pipeline()
    texts = [NUCLEAR, SANCTIONS, UNRELATED]
    values, good_ids, expected_reasons = [], set(), {}
    for n in range(MESSAGES):
        item = make_item(n, f"{texts[n % 3]} Number {n}.")
        if n % 100 == 50:
            key, value, reason = poison(n, item.to_bytes())
            expected_reasons[key] = reason
            values.append((key, value))
        else:
            good_ids.add(item.item_id)
            values.append((item.item_id.encode(), item.to_bytes()))
    await produce(settings, topics["items_raw"], values)

    classified = await consume_until(settings, topics["items_classified"],
                                     lambda rs: good_ids <= {r.key.decode() for r in rs}, timeout_secs=90)
    letters = await consume_until(settings, topics["deadletter"], lambda rs: len(rs) >= len(expected_reasons))
    assert {r.key.decode() for r in classified} == good_ids
    reasons = {r.key: dict(r.headers)["wf_reason"].decode() for r in letters}
    assert len(letters) == len(expected_reasons) == MESSAGES // 100
    assert reasons == expected_reasons
