"""Connectors: pull RSS/Atom feeds and Telegram channels into Kafka."""
