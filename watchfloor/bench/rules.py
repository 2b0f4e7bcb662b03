"""``watchfloor bench classify``: rule-engine throughput at several pack sizes, on one core, beside a
loop of one ``re`` pattern per term measured in the same run on the same documents.

The packs and documents are synthetic and seeded (same figures on every run, give or take the
machine): packs of N terms over pseudo-words in Latin and Cyrillic (phrases, prefixes and NEAR
pairs), nested so the 10-term pack is inside the 1,000-term one; documents of ~2.4 KB of UTF-8 mixing
filler words with eight rule phrases (three from the first ten terms, five from the whole list), so
every document has work to do after the phrase scan and bigger packs match more per document.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from schemas.rules import RulePack
from streams.rules.compile import compile_pack
from streams.rules.loader import load_pack

_LATIN = ("ka", "to", "re", "mi", "sa", "nu", "ve", "lo", "di", "pa", "ger", "son", "tal", "vin", "mor")
_CYRILLIC = ("ка", "то", "ре", "ми", "са", "ну", "ве", "ло", "ди", "па", "гер", "сон", "тал", "вин", "мор")
# Filler words come from other syllables: ordinary prose rarely spells a rule term by chance, and a
# shared syllable set would make most filler words rule hits, which measures nothing real.
_FILLER_LATIN = ("bo", "fe", "gu", "ha", "ji", "wu", "yo", "ze", "bar", "hul", "jem", "wex")
_FILLER_CYRILLIC = ("бо", "фе", "гу", "ха", "жи", "шу", "йо", "зе", "бар", "хул", "жем", "щех")


@dataclass(frozen=True)
class BenchRow:
    terms: int
    compile_secs: float
    docs_per_sec: float
    mb_per_sec: float
    re_docs_per_sec: float
    re_docs_measured: int

    @property
    def speedup(self) -> float:
        return self.docs_per_sec / self.re_docs_per_sec if self.re_docs_per_sec else float("inf")


def _word(rng: random.Random, latin=_LATIN, cyrillic=_CYRILLIC, syllables=(3, 5)) -> str:
    # Three to five syllables: a space of ~800,000 words per script, so (as with real vocabulary)
    # one term rarely spells another term's word or its prefix by chance.
    alphabet = latin if rng.random() < 0.5 else cyrillic
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(*syllables)))


def synthetic_terms(count: int, seed: int = 7) -> list[str]:
    """``count`` distinct term expressions: 80% phrases of 1–3 words, 10% prefixes, 10% NEAR pairs."""
    rng, terms, seen = random.Random(seed), [], set()
    while len(terms) < count:
        roll = rng.random()
        if roll < 0.8:
            term = " ".join(_word(rng) for _ in range(rng.randint(1, 3)))
        elif roll < 0.9:
            term = _word(rng) + "*"
        else:
            term = f'"{_word(rng)}" NEAR/4 "{_word(rng)}"'
        if term not in seen:
            seen.add(term)
            terms.append(term)
    return terms


def synthetic_pack(terms: list[str]) -> RulePack:
    """Terms spread over themes of 100 terms each (a desk's theme rarely has more)."""
    themes = [{"id": f"theme{i // 100}", "threshold": 1.0, "terms": {}} for i in range(0, len(terms), 100)]
    for i, term in enumerate(terms):
        themes[i // 100]["terms"][term] = 1.0
    return RulePack(name=f"bench-{len(terms)}", themes=themes)


def _plain(term: str) -> list[str]:
    return [p.strip('"* ') for p in term.split(" NEAR/4 ")]


def synthetic_docs(terms: list[str], count: int, size_bytes: int = 2400, seed: int = 11) -> list[str]:
    """Documents of about ``size_bytes``: filler words plus three phrases from the first ten terms and
    five from all ``terms``."""
    rng = random.Random(seed)
    filler = [_word(rng, _FILLER_LATIN, _FILLER_CYRILLIC, (2, 4)) for _ in range(3000)]
    docs = []
    for _ in range(count):
        phrases = [" ".join(_plain(term)) for term in rng.sample(terms[:10], 3) + rng.sample(terms, 5)]
        words: list[str] = []
        size = sum(len(p.encode()) + 1 for p in phrases)
        while size < size_bytes:
            words.append(rng.choice(filler) + ("," if rng.random() < 0.08 else ""))
            size += len(words[-1].encode()) + 1
        for phrase in phrases:
            words.insert(rng.randrange(len(words) + 1), phrase)
        docs.append(" ".join(words).capitalize() + ".")
    return docs


def _regex_baseline(terms: list[str]) -> list[re.Pattern]:
    patterns = []
    for term in terms:
        for part in _plain(term):
            tail = "" if term.endswith("*") else r"\b"
            patterns.append(re.compile(r"\b" + re.escape(part) + tail, re.IGNORECASE))
    return patterns


def _rate(func, docs: list[str], budget_secs: float, rounds: int = 5) -> tuple[float, int]:
    """Documents per second of ``func``: the best of ``rounds`` equal slices of ``docs`` (the machine is
    shared, and the best slice is the one least disturbed), stopping once ``budget_secs`` is spent."""
    size = max(1, len(docs) // rounds)
    best, done, began = 0.0, 0, time.perf_counter()
    for first in range(0, len(docs), size):
        start = time.perf_counter()
        count = 0
        for doc in docs[first:first + size]:
            func(doc)
            count += 1
            if time.perf_counter() - began > budget_secs:
                break
        best = max(best, count / (time.perf_counter() - start))
        done += count
        if time.perf_counter() - began > budget_secs:
            break
    return best, done


def run(sizes=(10, 1000, 10000), docs: int = 2000, budget_secs: float = 3.0) -> list[BenchRow]:
    """Measure every size; returns one row per size."""
    all_terms = synthetic_terms(max(sizes))
    corpus = synthetic_docs(all_terms[: max(sizes)], docs)
    mb = sum(len(d.encode()) for d in corpus) / len(corpus) / 1e6
    rows = []
    for size in sizes:
        terms = all_terms[:size]
        start = time.perf_counter()
        rules = compile_pack(synthetic_pack(terms))
        compile_secs = time.perf_counter() - start
        # Warm-up on the whole corpus, as the shipped row does: each word's lemma is worked out once per
        # vocabulary, as in a running worker. One document left the first size's row paying every filler
        # word's first lemmatisation (10 terms: ~4,300 docs/s cold against ~10,000 warm).
        for doc in corpus:
            rules.classify(doc)
        rate, _ = _rate(rules.classify, corpus, budget_secs)
        patterns = _regex_baseline(terms)
        re_rate, re_done = _rate(lambda d: [m for p in patterns for m in p.finditer(d)], corpus, budget_secs)
        rows.append(BenchRow(size, compile_secs, rate, rate * mb, re_rate, re_done))
    return rows


QUALITY_SETS = Path(__file__).resolve().parents[2] / "tests" / "data" / "quality"


def real_passages() -> list[str]:
    """The evaluation set's passages (real reporting in EN/RU/UK rewritten, docs/quality.md), or the
    demo stories where the set is not installed."""
    files = sorted(QUALITY_SETS.glob("*.jsonl")) if QUALITY_SETS.is_dir() else []
    if files:
        return [json.loads(line)["text"] for f in files for line in f.open(encoding="utf-8") if line.strip()]
    stories = yaml.safe_load((Path(__file__).resolve().parents[1] / "demo" / "stories.yaml").read_text())
    return [f"{s.get('title', '')}\n{s['text']}" for s in stories["stories"]]


def shipped_rate(budget_secs: float = 3.0, repeat: int = 10) -> tuple[float, float, int]:
    """Docs/s and MB/s of the shipped pack on real passages (each passage ``repeat`` times), and how
    many distinct passages: what lemmas, concepts and the gazetteer cost on text like the desk's."""
    rules = compile_pack(load_pack())
    passages = real_passages()
    corpus = passages * repeat
    for doc in passages:  # warm-up: the lemma cache fills once per vocabulary, as in a running worker
        rules.classify(doc)
    rate, _ = _rate(rules.classify, corpus, budget_secs)
    mb = sum(len(d.encode()) for d in passages) / len(passages) / 1e6
    return rate, rate * mb, len(passages)


def pin_one_core() -> int | None:
    """Pin this process to one CPU so the figures are single-core; returns it (None if unsupported)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def render(rows: list[BenchRow]) -> str:
    lines = [f"{'terms':>7} {'compile s':>10} {'docs/s':>10} {'MB/s':>7} {'re docs/s':>10} {'re docs':>8} "
             f"{'speed-up':>9}"]
    for r in rows:
        lines.append(f"{r.terms:>7} {r.compile_secs:>10.3f} {r.docs_per_sec:>10.0f} {r.mb_per_sec:>7.2f} "
                     f"{r.re_docs_per_sec:>10.1f} {r.re_docs_measured:>8} {r.speedup:>8.0f}x")
    first, last = rows[0], rows[-1]
    lines.append(f"{last.terms}-term throughput is {last.docs_per_sec / first.docs_per_sec:.2f} of the "
                 f"{first.terms}-term throughput")
    return "\n".join(lines)
