"""Benchmarks of the stream pipeline against the broker's limits and a plain Faust agent, and the
soak run. Entry points (the ``watchfloor bench`` commands call only these)::

    watchfloor.bench.run.run(items=20000, rate=1000.0, latency_secs=10.0, say=print) -> dict
        ``watchfloor bench pipeline``: the figures of docs/benchmarks.md, as a flat dict.
    watchfloor.bench.soak.soak(minutes=10.0, rate=500.0, say=print) -> dict
        ``watchfloor bench soak``: a constant rate through one worker, its memory sampled.
"""
