"""Bench (not collected by pytest): every feedparser corpus file, served over local HTTP, through
``watchfloor fetch rss`` as a real subprocess. Prints exit codes, wall time per file (median, p99,
max), files over 2 s and any traceback.

    python tests/connectors/bench_rss_cli_corpus.py [--jobs 2] [--limit N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere
from tests.connectors.rss_helpers import ThreadedServer, corpus_route  # noqa: E402

CORPUS = Path("/work/shared/corpora/feedparser-tests")


def run_one(base: str, name: str) -> tuple[str, int, float, bool, str]:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "watchfloor", "fetch", "rss", f"{base}/{name}"],
                          capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    one_line = proc.returncode == 0 or len(proc.stderr.strip().splitlines()) == 1
    return name, proc.returncode, elapsed, "Traceback" in proc.stderr or not one_line, proc.stderr.strip()[:200]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    files = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.suffix in (".xml", ".json"))
    files = files[: args.limit] if args.limit else files
    with ThreadedServer({"/{path:.+}": corpus_route(CORPUS)}) as server, ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda n: run_one(server.base, n), files))
    times = sorted(r[2] for r in results)
    codes: dict[int, int] = {}
    for _, code, *_ in results:
        codes[code] = codes.get(code, 0) + 1
    slow = [r for r in results if r[2] > 2.0]
    bad = [r for r in results if r[3] or r[1] not in (0, 2)]
    print(f"files: {len(results)}  exit codes: {dict(sorted(codes.items()))}")
    print(f"wall per file: median {statistics.median(times):.3f}s  p99 {times[int(len(times) * 0.99) - 1]:.3f}s  "
          f"max {times[-1]:.3f}s  (jobs={args.jobs})")
    print(f"over 2 s: {len(slow)}  traceback or bad exit: {len(bad)}")
    for name, code, elapsed, _, err in (bad + slow)[:20]:
        print(f"  {name}: exit {code} in {elapsed:.2f}s: {err}")
    return 1 if bad or slow else 0


if __name__ == "__main__":
    sys.exit(main())
