"""``watchfloor fetch rss URL_OR_PATH``: one feed, its items as JSON Lines on stdout, no broker.

Exit 0 on success (even with no items); on failure exit 2 with one line on stderr naming the source
and the reason, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from pathlib import PurePath
from urllib.parse import urlsplit

from connectors.base import PollResult
from connectors.errors import ConnectorError
from connectors.http import make_session
from connectors.rss.source import RssSource, is_http, read_file
from core.netpolicy import AddressPolicy
from core.settings import RssSettings, load_settings
from schemas import Source, SourceState

log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^a-z0-9_.:-]+")


def source_for_target(target: str) -> Source:
    """An ad-hoc source for a URL or path, with an id from its host (URL) or file name (path)."""
    parts = urlsplit(target)
    name = parts.hostname if is_http(target) and parts.hostname else PurePath(target).name
    slug = _UNSAFE.sub("-", (name or "feed").lower()).strip("-_.:")[:100] or "feed"
    if is_http(target):
        return Source(id=f"cli-{slug}", type="rss", url=target)
    # A local file is a feature of this command only; a Source refuses non-http URLs, so this one,
    # which never reaches the polling loop, is built without that check.
    return Source(id=f"cli-{slug}", type="rss", url="https://localhost/").model_copy(update={"url": None})


async def fetch_once(target: str, config: RssSettings | None = None, policy: AddressPolicy | None = None) -> PollResult:
    source = source_for_target(target)
    config = config or RssSettings()
    policy = policy or AddressPolicy(load_settings().fetch_allowed_networks)
    async with make_session(policy=policy, limit=4) as session:
        adapter = RssSource(session, config)
        if not is_http(target):
            data = await asyncio.to_thread(read_file, target, config.max_body_bytes, source.id)
            return await adapter.parse_bytes(source, data)
        return await adapter.poll(source, SourceState(source_id=source.id))


def fetch_command(args) -> int:
    target = args.target
    try:
        result = asyncio.run(fetch_once(target))
    except ConnectorError as exc:
        print(f"watchfloor: {target}: {_reason(exc, target)}", file=sys.stderr)
        return 2
    except Exception as exc:  # the promise is one line, never a traceback
        print(f"watchfloor: {target}: unexpected {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return 2
    for warning in result.warnings:
        log.warning("%s", warning)
    out = sys.stdout
    try:
        for item in result.items:
            out.write(item.model_dump_json())
            out.write("\n")
        out.flush()
    except BrokenPipeError:
        pass  # the reader went away (``| head``); not an error of the feed
    return 0


def _reason(exc: ConnectorError, target: str) -> str:
    text = _one_line(exc)
    source_id = source_for_target(target).id
    return text[len(source_id) + 2:] if text.startswith(f"{source_id}: ") else text


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
