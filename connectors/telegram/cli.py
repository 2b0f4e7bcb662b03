"""``watchfloor fetch telegram CHANNEL [--base-url URL] [--pages N]``: every post of the newest
``N`` preview pages as JSON Lines ``Item``s on stdout, oldest first, without a broker.

Exit 0 on success; on failure exit 2 with one line on stderr naming the channel and the reason,
never a traceback (the same contract as ``fetch rss``).
"""

from __future__ import annotations

import asyncio
import logging
import sys

from pydantic import ValidationError

from connectors.base import PollResult
from connectors.errors import ConnectorError
from connectors.http import make_session
from connectors.telegram.channel import is_channel_name
from connectors.telegram.source import TelegramChannelSource
from core.netpolicy import AddressPolicy
from core.settings import TelegramSettings, load_settings
from schemas import Source, SourceState

log = logging.getLogger(__name__)


def source_for_channel(channel: str, base_url: str, pages: int) -> Source:
    name = channel.strip().lstrip("@")
    return Source(id=f"telegram:{name.lower()}"[:128], type="telegram", channel=name,
                  base_url=base_url, backfill_pages=pages)


async def fetch_channel(source: Source, config: TelegramSettings | None = None,
                        policy: AddressPolicy | None = None) -> PollResult:
    policy = policy or AddressPolicy(load_settings().fetch_allowed_networks)
    async with make_session(policy=policy, limit=4) as session:
        adapter = TelegramChannelSource(session, config)
        return await adapter.poll(source, SourceState(source_id=source.id))


def fetch_command(args) -> int:
    channel = str(args.channel).strip().lstrip("@")
    if not is_channel_name(channel):
        return _fail(channel, "not a Telegram channel username (letters, digits and '_')")
    try:
        source = source_for_channel(channel, args.base_url, args.pages)
        result = asyncio.run(fetch_channel(source))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "pages" if "backfill_pages" in first["loc"] else ".".join(map(str, first["loc"]))
        return _fail(channel, f"invalid {field}: {first['msg']}")
    except ConnectorError as exc:
        return _fail(channel, _reason(exc))
    except Exception as exc:  # the promise is one line, never a traceback
        return _fail(channel, f"unexpected {type(exc).__name__}: {_one_line(exc)}")
    for warning in result.warnings:
        log.warning("%s", warning)
    try:
        for item in result.items:
            sys.stdout.write(item.model_dump_json())
            sys.stdout.write("\n")
        sys.stdout.flush()
    except BrokenPipeError:
        pass  # the reader went away (``| head``); not an error of the channel
    return 0


def _fail(channel: str, reason: str) -> int:
    named = channel.lower() in reason.lower()
    print(f"watchfloor: telegram: {reason if named else f'channel {channel}: {reason}'}", file=sys.stderr)
    return 2


def _reason(exc: ConnectorError) -> str:
    text = _one_line(exc)
    head, sep, rest = text.partition(": ")
    return rest if sep and head.startswith("telegram:") else text


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
