"""The peer of ``watchfloor bench pipeline``: a plain per-message Faust agent doing the same work as
the classify stage (decode the item, classify it with the same rule pack, send the classified item
keyed by item_id). Run as ``python -m watchfloor.bench.peer`` with the usual ``WATCHFLOOR_*`` settings;
it reads ``items.raw`` and writes ``items.classified`` of the configured prefix until SIGTERM.

This is what the stream layer looks like when written the textbook Faust way, and the figure our
batched stages have to beat.
"""

from __future__ import annotations

import faust

from core.kafka import topic_name
from core.settings import Settings, load_settings
from schemas import Item
from streams.app import create_app
from streams.classify import classify_item
from streams.rules import compile_pack, load_pack


def peer_app_id(settings: Settings) -> str:
    """The peer's Faust app id, which is also the consumer group its agent reads the raw items in."""
    return f"{settings.topic_prefix}bench-peer".replace(".", "-")


def build_peer(settings: Settings) -> faust.App:
    rules = compile_pack(load_pack(settings.rules_path))
    app = create_app(settings, app_id=peer_app_id(settings))
    raw = app.topic(topic_name(settings, "items_raw"), key_serializer="raw", value_serializer="raw")
    out = app.topic(topic_name(settings, "items_classified"), key_serializer="raw",
                    value_serializer="raw")

    @app.agent(raw)
    async def classify(stream):
        async for value in stream:
            item = Item.model_validate_json(value)
            classified = classify_item(item, rules)
            # force=True: without it Faust attaches the send to the input event and publishes it at
            # the next commit, and the last few records of a drained topic stayed unpublished.
            await out.send(key=item.item_id.encode("utf-8"), value=classified.to_bytes(), force=True)

    return app


def main() -> None:
    settings = load_settings()
    (settings.data_dir / "faust").mkdir(parents=True, exist_ok=True)
    app = build_peer(settings)
    faust.Worker(app, loglevel="warning", quiet=True, redirect_stdouts=False).execute_from_commandline()


if __name__ == "__main__":
    main()
