"""``watchfloor fetch rss``: JSON Lines on stdout and exit 0, or exit 2 with one line on stderr naming
the source and the reason; never a traceback, even over the whole feedparser corpus served over HTTP.

Every corpus file goes through the real command in-process (``watchfloor.cli.main``: argument
parsing, fetch over HTTP, parse, output); a sample runs as real subprocesses. All 2,100 files as
subprocesses take ~0.4 s each, so that sweep is ``bench_rss_cli_corpus.py``, outside the suite.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

from schemas import Item
from tests.connectors.rss_helpers import ThreadedServer, corpus_route, rss
from watchfloor.cli import main

CORPUS = Path("/work/shared/corpora/feedparser-tests")
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared feedparser corpus is not here")
SAMPLE = [
    "wellformed/rss/item_guid.xml", "wellformed/atom10/entry_content_type_html.xml",
    "wellformed/rss/entity_in_doctype.xml", "illformed/rss_empty_document.xml",
    "encoding/big5.xml", "wellformed/sanitize/item_description_script_map_cdata.xml", "json/example.json",
]


def run_in_process(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def check_outcome(code: int, out: str, err: str, label: str) -> None:
    assert code in (0, 2), (label, code, err)
    assert "Traceback" not in err, (label, err)
    if code == 0:
        for line in out.splitlines():
            Item.model_validate_json(line)
    else:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("watchfloor: http://127.0.0.1:"), (label, err)


@needs_corpus
def test_every_corpus_file_served_over_http_exits_0_or_2_without_traceback():
    files = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.suffix in (".xml", ".json"))
    codes = {0: 0, 2: 0}
    with ThreadedServer({"/{path:.+}": corpus_route(CORPUS)}) as server:
        for name in files:
            code, out, err = run_in_process("fetch", "rss", f"{server.base}/{name}")
            check_outcome(code, out, err, name)
            codes[code] += 1
    assert sum(codes.values()) == len(files) > 2000
    assert codes[0] > 1500 and codes[2] > 100, codes


@needs_corpus
def test_sample_of_corpus_files_through_the_real_command_in_subprocesses():
    with ThreadedServer({"/{path:.+}": corpus_route(CORPUS)}) as server:
        for name in SAMPLE:
            proc = subprocess.run([sys.executable, "-m", "watchfloor", "fetch", "rss", f"{server.base}/{name}"],
                                  capture_output=True, text=True, timeout=30)
            check_outcome(proc.returncode, proc.stdout, proc.stderr, name)


def test_local_file_prints_items_as_json_lines(tmp_path):
    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss(("a", "Sanctions package", "EU adopts"), ("b", "Talks", "Geneva")))
    code, out, err = run_in_process("fetch", "rss", str(feed))
    items = [Item.model_validate_json(line) for line in out.splitlines()]
    assert code == 0 and [i.title for i in items] == ["Talks", "Sanctions package"]
    assert all(i.source_id == "cli-feed.xml" for i in items)


def test_missing_file_exits_2_with_one_line_naming_it(tmp_path):
    target = str(tmp_path / "absent.xml")
    code, out, err = run_in_process("fetch", "rss", target)
    assert code == 2 and out == ""
    assert err == f"watchfloor: {target}: cannot read {target}: No such file or directory\n"


def test_http_error_exits_2_with_the_status_in_the_one_line(tmp_path):
    from aiohttp import web

    async def gone(request):
        return web.Response(status=410)

    with ThreadedServer({"/feed": gone}) as server:
        code, out, err = run_in_process("fetch", "rss", f"{server.base}/feed")
    assert code == 2 and err == f"watchfloor: {server.base}/feed: HTTP 410 Gone (the feed was removed for good)\n"
    assert out == ""
