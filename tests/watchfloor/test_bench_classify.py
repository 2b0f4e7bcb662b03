"""``watchfloor bench classify``: the rule engine beside a one-regex-per-term baseline."""

from __future__ import annotations

import subprocess
import sys

from streams.rules import compile_pack
from watchfloor.bench import rules as bench


def test_bench_rows_put_the_engine_beside_the_regex_baseline():
    rows = bench.run(sizes=(10, 200), docs=20, budget_secs=0.2)
    assert [r.terms for r in rows] == [10, 200]
    assert all(r.docs_per_sec > 0 and r.re_docs_per_sec > 0 and r.mb_per_sec > 0 for r in rows)
    table = bench.render(rows)
    print(table)
    assert "200-term throughput is" in table


def test_bench_documents_hold_rule_phrases_so_every_document_matches():
    terms = bench.synthetic_terms(300)
    rules = compile_pack(bench.synthetic_pack(terms))
    docs = bench.synthetic_docs(terms, 20)
    assert all(2400 <= len(d.encode()) <= 2500 for d in docs)
    assert all(rules.classify(d).themes for d in docs)


def test_bench_classify_command_prints_a_table():
    done = subprocess.run([sys.executable, "-m", "watchfloor", "bench", "classify", "--sizes", "10,100",
                           "--docs", "20", "--budget-secs", "0.2"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "docs/s" in done.stdout and "re docs/s" in done.stdout
    assert "100-term throughput is" in done.stdout
