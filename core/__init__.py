"""What every watchfloor process uses: settings, Kafka helpers, the metric catalog and its server,
errors and identities. Imports ``schemas`` and nothing else of ours."""

__version__ = "0.1.0"
