"""Event deliveries in the /metrics exposition: read from the database, so every process (and every
server) shows the same figures."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from certsvc.core import clock
from certsvc.events.dispatch import stats


class _Deliveries(Collector):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        figures = stats(self.engine, clock.now())
        by_state = GaugeMetricFamily("certsvc_event_deliveries", "Event deliveries by state", labels=["state"])
        for state in ("pending", "delivered", "failed"):
            by_state.add_metric([state], figures[state])
        yield by_state
        yield GaugeMetricFamily(
            "certsvc_event_delivery_retries", "Delivery attempts after the first (all deliveries)", figures["retries"]
        )
        yield GaugeMetricFamily(
            "certsvc_event_oldest_pending_seconds",
            "Age of the oldest pending event delivery (0 when none)",
            figures["oldest_pending_age_s"],
        )


def exposition(engine: Engine) -> bytes:
    """The delivery figures in the Prometheus text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Deliveries(engine))
    return generate_latest(registry)
