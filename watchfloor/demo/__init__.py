"""The demo set: RSS feeds and Telegram preview pages written by the project, served from a local
HTTP server with new items appearing over time (``watchfloor run --demo``)."""
