"""Every watchfloor metric, declared once. Each process builds the group it needs on its own
``CollectorRegistry`` (tests build their own too), so nothing is global.

Naming follows the Prometheus guide: ``watchfloor_`` prefix, base units (seconds, bytes),
``_total`` on counters, and labels whose values come from small fixed sets (never URLs or ids).
The README's operations section lists them; ``tests`` check that each one is exported.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400)
FETCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60)
CLASSIFY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5)

# The fixed label values. Code that records a metric must use one of these.
FETCH_OUTCOMES = (
    "ok", "not_modified", "http_error", "timeout", "too_large", "rate_limited", "gone",
    "network_error", "parse_error", "no_preview", "flood_wait",
)
CONNECTOR_STAGES = ("fetch", "parse", "normalise", "produce", "state")
DEADLETTER_STAGES = ("decode", "validate", "classify", "alert", "rules")
WEBHOOK_OUTCOMES = ("delivered", "retry", "failed", "skipped_duplicate")
WEBSUB_OUTCOMES = ("accepted", "bad_signature", "invalid", "unknown", "refused")
WEBSUB_STATES = ("pending", "active", "denied", "lapsed")
STORY_OUTCOMES = ("opened", "joined", "raced", "short")
BOUNDED_STATES = ("story_index_buckets", "story_book_entries", "alert_ledger_ids", "cooldown_windows")


class ConnectorMetrics:
    """Received / emitted / errors per connector (Vector's source compliance set), and source health."""

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry
        self.fetch_requests = Counter(
            "watchfloor_fetch_requests_total", "Fetches of a source, by source type and outcome.",
            ["source_type", "outcome"], registry=registry)
        self.fetch_duration = Histogram(
            "watchfloor_fetch_duration_seconds", "Wall time of one fetch, including the body.",
            ["source_type"], buckets=FETCH_BUCKETS, registry=registry)
        self.fetch_bytes = Counter(
            "watchfloor_fetch_received_bytes_total", "Response body bytes received (after decompression).",
            ["source_type"], registry=registry)
        self.items_received = Counter(
            "watchfloor_items_received_total", "Items parsed from fetched sources, before dedupe.",
            ["source_type"], registry=registry)
        self.items_emitted = Counter(
            "watchfloor_items_emitted_total", "Items produced to the raw items topic and acknowledged.",
            ["source_type"], registry=registry)
        self.items_duplicate = Counter(
            "watchfloor_items_duplicate_total", "Items skipped because they were emitted before unchanged.",
            ["source_type"], registry=registry)
        self.items_revised = Counter(
            "watchfloor_items_revised_total", "Items emitted again because their content changed.",
            ["source_type"], registry=registry)
        self.ingest_lag = Histogram(
            "watchfloor_ingest_lag_seconds", "Fetched time minus published time of emitted items.",
            ["source_type"], buckets=LATENCY_BUCKETS, registry=registry)
        self.errors = Counter(
            "watchfloor_connector_errors_total", "Connector errors by stage and error type.",
            ["stage", "error_type"], registry=registry)
        self.sources = Gauge(
            "watchfloor_sources", "Configured sources by state (active, disabled, failing).",
            ["state"], registry=registry)
        self.sources_stale = Gauge(
            "watchfloor_sources_stale", "Enabled sources with no successful fetch within 3 poll intervals.",
            registry=registry)
        self.last_success = Gauge(
            "watchfloor_source_last_success_timestamp_seconds",
            "Newest successful fetch of any source of this type (Unix time).",
            ["source_type"], registry=registry)
        self.websub_notifications = Counter(
            "watchfloor_websub_notifications_total", "Requests to the WebSub callback: pushed content by outcome "
            "(accepted, bad_signature, invalid, unknown, failed), or refused (host, Origin, type, size).", ["outcome"],
            registry=registry)
        self.websub_subscriptions = Gauge(
            "watchfloor_websub_subscriptions", "WebSub subscriptions of this process, by state (pending, active, "
            "denied, lapsed).", ["state"], registry=registry)


class WorkerMetrics:
    """What the stream worker does with items: classification, alerts, dead letters, lag."""

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry
        self.items_classified = Counter(
            "watchfloor_items_classified_total", "Items classified by the rule engine.",
            ["source_type"], registry=registry)
        self.classify_duration = Histogram(
            "watchfloor_classify_duration_seconds", "Rule-engine time per item.",
            buckets=CLASSIFY_BUCKETS, registry=registry)
        self.alerts = Counter(
            "watchfloor_alerts_total", "Alerts raised, by severity and the first theme ('none' without one).",
            ["severity", "theme"], registry=registry)
        self.alerts_suppressed = Counter(
            "watchfloor_alerts_suppressed_total", "Alerts not raised: seen before, or folded by the cooldown.",
            ["reason"], registry=registry)
        self.latency_from_published = Histogram(
            "watchfloor_alert_latency_from_published_seconds", "Alerted time minus the item's published time.",
            buckets=LATENCY_BUCKETS, registry=registry)
        self.latency_from_fetched = Histogram(
            "watchfloor_alert_latency_from_fetched_seconds", "Alerted time minus the item's fetch time.",
            buckets=LATENCY_BUCKETS, registry=registry)
        self.deadletters = Counter(
            "watchfloor_deadletters_total", "Messages sent to the dead-letter topic, by stage and reason.",
            ["stage", "reason"], registry=registry)
        self.state_records_skipped = Counter(
            "watchfloor_state_records_skipped_total",
            "Records of a state topic the worker follows (rules, ledger, story book, story index) that could not "
            "be applied and were skipped.", ["topic"], registry=registry)
        self.consumer_lag = Gauge(
            "watchfloor_consumer_lag_messages", "Messages behind the end of the topic, summed over partitions.",
            ["topic"], registry=registry)
        self.rebalances = Counter(
            "watchfloor_rebalances_total", "Consumer group rebalances seen by this worker.", registry=registry)
        self.rules_reloads = Counter(
            "watchfloor_rules_reloads_total", "Rule packs loaded, by outcome.", ["outcome"], registry=registry)
        self.rules_info = Gauge(
            "watchfloor_rules_info", "1 for the rule pack in use.", ["version"], registry=registry)
        self.stories_assigned = Counter(
            "watchfloor_stories_assigned_total",
            "Relevant items given a story, by outcome: opened one, joined one found at once, joined another "
            "claim's after a race, or too short to compare (a story of its own).", ["outcome"], registry=registry)
        self.story_claim_wait = Histogram(
            "watchfloor_story_claim_wait_seconds",
            "Per batch that opened stories: time from its claims' acknowledgement to reading all of them back "
            "from the story index.", buckets=LATENCY_BUCKETS, registry=registry)
        self.state_entries = Gauge(
            "watchfloor_state_entries", "Entries held in a bounded state of the worker, read at each scrape.",
            ["state"], registry=registry)
        self.state_max_entries = Gauge(
            "watchfloor_state_max_entries",
            "The cap of a bounded state (its setting): at the cap the least recently seen entries are evicted.",
            ["state"], registry=registry)

    def watch_state(self, state: str, entries, max_entries: int) -> None:
        """Export the size of a bounded state: ``entries()`` is called at each scrape, nothing per item."""
        if state not in BOUNDED_STATES:
            raise ValueError(f"unknown bounded state {state!r}: add it to BOUNDED_STATES")
        self.state_entries.labels(state).set_function(entries)
        self.state_max_entries.labels(state).set(max_entries)


class DeskMetrics:
    """The alert desk: webhooks and live page clients."""

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry
        self.webhook_deliveries = Counter(
            "watchfloor_webhook_deliveries_total", "Webhook delivery attempts, by outcome.",
            ["outcome"], registry=registry)
        self.desk_clients = Gauge(
            "watchfloor_desk_clients", "Browsers connected to the live alert stream.", registry=registry)
        self.alerts_stored = Counter(
            "watchfloor_desk_alerts_stored_total", "Alerts written to the alert store (new alert ids only).",
            registry=registry)
        self.alerts_invalid = Counter(
            "watchfloor_desk_alerts_invalid_total", "Records on the alerts topic that are not a valid Alert; skipped.",
            registry=registry)
        self.desk_actions = Counter(
            "watchfloor_desk_actions_total", "Desk actions: taken here, sent to the actions topic, received from "
            "other desks (applied), or invalid records skipped.", ["outcome"], registry=registry)
        self.desk_actions_unsent = Gauge(
            "watchfloor_desk_actions_unsent", "Desk actions taken here and not yet acknowledged by the broker "
            "(the outbox); set when the outbox empties or sending stops.", registry=registry)


class SupervisorMetrics:
    """What ``watchfloor run`` itself does: restarts of its children."""

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry
        self.child_restarts = Counter(
            "watchfloor_child_restarts_total", "Children of watchfloor run restarted after they exited, by child.",
            ["child"], registry=registry)


CATALOG = (ConnectorMetrics, WorkerMetrics, DeskMetrics, SupervisorMetrics)
"""Every metric group: each process registers the ones it serves; docs and dashboards cover all."""
