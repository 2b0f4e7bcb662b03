"""One polite, hostile-input-proof HTTP GET, shared by every connector (RSS feeds, Telegram previews).

What it guarantees, whatever the server does:

- a total deadline over the whole exchange (connect, redirects, headers and body), so a server that
  trickles one byte a second cannot hold a slot longer than ``deadline_secs``;
- a body-size cap counted *after* decompression, while streaming: we decompress gzip/deflate
  ourselves with a bounded output size, so a gzip bomb stops at the cap instead of filling memory;
- at most ``max_redirects`` hops, and a chain of permanent redirects (301/308) reported as the
  source's new URL;
- conditional GET (If-None-Match / If-Modified-Since); a 304 comes back as ``not_modified``;
- status codes mapped to ``connectors.errors``: 410 → ``SourceGone``, 429/503 → ``RetryLater``
  with the server's Retry-After (seconds or an HTTP date), other failures → ``FetchError``.
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

import aiohttp
from multidict import CIMultiDictProxy

from connectors.errors import FetchError, RetryLater, SourceGone
from core import __version__
from core.netpolicy import AddressPolicy

USER_AGENT = f"watchfloor/{__version__} (+https://github.com/watchfloor/watchfloor; news monitoring)"
PERMANENT_REDIRECTS = (301, 308)
REDIRECTS = (301, 302, 303, 307, 308)
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class FetchLimits:
    """Caps applied to one fetch; connector configs hand these in."""

    deadline_secs: float = 30.0
    max_body_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    default_retry_after_secs: float = 60.0


@dataclass
class FetchResponse:
    """A completed GET: ``body`` is decompressed and at most ``max_body_bytes`` long."""

    url: str
    """The URL that finally answered (after redirects)."""
    status: int
    headers: CIMultiDictProxy[str] | dict
    body: bytes = b""
    not_modified: bool = False
    permanent_url: str | None = None
    """Set when every hop to ``url`` was a permanent redirect: the source's new address."""

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("Last-Modified")


def make_session(*, policy: AddressPolicy, limit: int = 32) -> aiohttp.ClientSession:
    """The session connectors share, reaching only what ``policy`` allows (``core.netpolicy``: public
    addresses unless configured otherwise, checked on every hop). Timeouts are applied per fetch;
    decompression is ours."""
    return policy.session(
        limit=limit,
        headers={"User-Agent": USER_AGENT},
        auto_decompress=False,
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=30),
    )


def parse_retry_after(value: str | None, default: float, now: datetime | None = None) -> float:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; ``default`` if unusable."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return default
    if when is None:
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


async def fetch(
    session: aiohttp.ClientSession,
    url: str,
    *,
    limits: FetchLimits = FetchLimits(),
    etag: str | None = None,
    last_modified: str | None = None,
    name: str | None = None,
    accept: str = "*/*",
) -> FetchResponse:
    """GET ``url`` within ``limits``; raise a ``connectors.errors`` error naming ``name`` on failure."""
    label = name or url
    headers = {"Accept": accept, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(limits.deadline_secs):
            return await _follow(session, url, headers, limits, label)
    except TimeoutError:
        raise FetchError(f"{label}: no complete response within {limits.deadline_secs:g}s", kind="timeout") from None
    except aiohttp.ClientError as exc:
        raise FetchError(f"{label}: {_describe(exc)}", kind="network_error") from None


async def _follow(session, url: str, headers: dict, limits: FetchLimits, label: str) -> FetchResponse:
    permanent = True
    for _hop in range(limits.max_redirects + 1):
        async with session.get(url, headers=headers, allow_redirects=False) as resp:
            if resp.status in REDIRECTS:
                location = resp.headers.get("Location")
                if not location:
                    raise FetchError(f"{label}: HTTP {resp.status} without a Location header", kind="http_error")
                permanent = permanent and resp.status in PERMANENT_REDIRECTS
                url = urljoin(str(resp.url), location)
                continue
            moved = url if permanent and _hop > 0 else None
            return await _finish(resp, url, moved, limits, label)
    raise FetchError(f"{label}: more than {limits.max_redirects} redirects", kind="http_error")


async def _finish(resp: aiohttp.ClientResponse, url: str, moved: str | None, limits: FetchLimits, label: str):
    status = resp.status
    if status == 304:
        return FetchResponse(url, status, resp.headers, not_modified=True, permanent_url=moved)
    if status == 410:
        raise SourceGone(f"{label}: HTTP 410 Gone (the feed was removed for good)")
    if status in (429, 503):
        wait = parse_retry_after(resp.headers.get("Retry-After"), limits.default_retry_after_secs)
        raise RetryLater(f"{label}: HTTP {status}; retry after {wait:.0f}s", wait)
    if status >= 400:
        raise FetchError(f"{label}: HTTP {status} {resp.reason or ''}".rstrip(), kind="http_error")
    body = await read_capped(resp, limits.max_body_bytes, label)
    return FetchResponse(url, status, resp.headers, body=body, permanent_url=moved)


async def read_capped(resp: aiohttp.ClientResponse, max_bytes: int, label: str) -> bytes:
    """Stream the body, decompressing as we go, and stop as soon as it passes ``max_bytes``."""
    declared = resp.headers.get("Content-Length")
    encoding = resp.headers.get("Content-Encoding", "").strip().lower()
    if declared and declared.isdigit() and not encoding and int(declared) > max_bytes:
        raise _too_large(label, max_bytes)
    decoder = _decoder(encoding, label)
    out = bytearray()
    async for chunk in resp.content.iter_chunked(CHUNK_BYTES):
        _append(out, decoder, chunk, max_bytes, label)
    if decoder is not None:
        out += decoder.flush()
        if len(out) > max_bytes:
            raise _too_large(label, max_bytes)
    return bytes(out)


def _append(out: bytearray, decoder, chunk: bytes, max_bytes: int, label: str) -> None:
    if decoder is None:
        out += chunk
    else:
        # max_length bounds the output of this call; the unconsumed input waits in
        # unconsumed_tail, so a 10 KB chunk of a bomb never becomes 10 GB at once.
        data = chunk
        while data:
            try:
                out += decoder.decompress(data, max_bytes + 1 - len(out))
            except zlib.error as exc:
                raise FetchError(f"{label}: corrupt compressed body ({exc})", kind="http_error") from None
            if len(out) > max_bytes:
                break
            data = decoder.unconsumed_tail
    if len(out) > max_bytes:
        raise _too_large(label, max_bytes)


def _decoder(encoding: str, label: str):
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise FetchError(f"{label}: unsupported Content-Encoding {encoding!r}", kind="http_error")


def _too_large(label: str, max_bytes: int) -> FetchError:
    return FetchError(f"{label}: body larger than {max_bytes} bytes after decompression", kind="too_large")


def _describe(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
