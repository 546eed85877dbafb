"""The Prometheus instruments and the text the /metrics scrape answers.

One process: the instruments live in `REGISTRY`. Several (gunicorn workers): prometheus-client's
multiprocess mode — `PROMETHEUS_MULTIPROC_DIR` is set before any worker imports this module,
every worker writes its values to files there, and a scrape (by whichever worker takes it)
adds them up. The outbox backlog is not counted by anyone: it is read from the database at
scrape time.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from token_core.persistence.health import Backlog
from token_core.vocabulary import Channel

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "odontoken_http_requests",
    "HTTP requests answered, by route (its pattern, not the path) and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "odontoken_http_request_duration_seconds",
    "Time to answer an HTTP request, by route.",
    ["method", "route"],
    registry=REGISTRY,
)
CODES_ISSUED = Counter(
    "odontoken_codes_issued", "Security codes issued, by channel.", ["channel"], registry=REGISTRY
)
VALIDATIONS = Counter(
    "odontoken_validations",
    "Code validations answered, by result (valid, invalid, expired, …).",
    ["result"],
    registry=REGISTRY,
)
GUIDE_LOCKS = Counter(
    "odontoken_guide_locks", "Guides locked after too many wrong codes.", registry=REGISTRY
)
DELIVERIES = Counter(
    "odontoken_deliveries",
    "Code deliveries, by channel and outcome (ok, failed).",
    ["channel", "outcome"],
    registry=REGISTRY,
)
CHAT_UPDATES_IN = Counter(
    "odontoken_chat_updates_in",
    "Chat updates received by a webhook, by channel and outcome (queued, duplicate, dropped).",
    ["channel", "outcome"],
    registry=REGISTRY,
)
CHAT_MESSAGES_OUT = Counter(
    "odontoken_chat_messages_out", "Chat messages sent, by channel.", ["channel"], registry=REGISTRY
)
OUTAGES = Counter(
    "odontoken_outages",
    "Requests that met an outage, by backend (store, database).",
    ["backend"],
    registry=REGISTRY,
)


class PrometheusMetrics:
    """The core's `Metrics` port on the instruments above."""

    def code_issued(self, channel: Channel) -> None:
        CODES_ISSUED.labels(channel.value).inc()

    def validated(self, result: str) -> None:
        VALIDATIONS.labels(result).inc()

    def guide_locked(self) -> None:
        GUIDE_LOCKS.inc()

    def delivered(self, channel: Channel, outcome: str) -> None:
        DELIVERIES.labels(channel.value, outcome).inc()

    def chat_update_in(self, channel: Channel, outcome: str) -> None:
        CHAT_UPDATES_IN.labels(channel.value, outcome).inc()

    def chat_message_out(self, channel: Channel) -> None:
        CHAT_MESSAGES_OUT.labels(channel.value).inc()

    def outage(self, backend: str) -> None:
        OUTAGES.labels(backend).inc()


class _BacklogCollector:
    def __init__(self, backlog: list[Backlog] | None) -> None:
        self._backlog = backlog

    def collect(self) -> Iterable[Metric]:
        if self._backlog is None:  # the database did not answer: no figure rather than a 0
            return []
        count = GaugeMetricFamily(
            "odontoken_outbox_backlog", "Outbox events not delivered yet, by type.", labels=["type"]
        )
        age = GaugeMetricFamily(
            "odontoken_outbox_oldest_age_seconds",
            "Age of the oldest undelivered outbox event, by type.",
            labels=["type"],
        )
        for item in self._backlog:
            count.add_metric([item.event_type], item.count)
            age.add_metric([item.event_type], item.oldest_age_seconds)
        return [count, age]


def render(backlog: list[Backlog] | None) -> bytes:
    """The scrape: every worker's instruments (added up in multiprocess mode), then the
    outbox backlog (None: the database did not answer; those gauges are left out)."""
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        counted = CollectorRegistry(auto_describe=True)
        MultiProcessCollector(counted, path=directory)  # type: ignore[no-untyped-call]
    else:
        counted = REGISTRY
    extra = CollectorRegistry(auto_describe=True)
    extra.register(_BacklogCollector(backlog))
    return generate_latest(counted) + generate_latest(extra)
