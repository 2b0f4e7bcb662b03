"""What both Telegram adapters agree on about a channel: its name, and the error for one that shows
no public preview."""

from __future__ import annotations

import re

from connectors.errors import BadInput
from schemas import Source

_CHANNEL = re.compile(r"^[A-Za-z0-9_]{1,64}$")


class NoPublicPreview(BadInput):
    """The channel shows no public web preview (t.me redirects away from ``/s/``, or the page has
    no messages): a property of the source, retried only at its normal interval."""

    kind = "no_preview"
    stage = "fetch"


def is_channel_name(name: str) -> bool:
    return bool(_CHANNEL.match(name))


def channel_of(source: Source) -> str:
    channel = (source.channel or "").strip().lstrip("@")
    if not is_channel_name(channel):
        raise BadInput(f"{source.id}: channel {source.channel!r} is not a Telegram username (letters, digits, '_')")
    return channel
