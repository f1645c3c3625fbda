"""Per engine and step, how long provisioning takes (p50 and p95), and a store's estimated time to ready.

A step's duration is read from the timeline: from the event that ends the step before it (or
`ProvisioningStarted`) to the event that ends it, within one store's timeline, only where the two
follow each other directly (a retry in between would count its wait; a `StepStalled` note, which
changes nothing, is skipped: the slow runs it marks must count). `to_ready` is a whole
provisioning: from the latest request or retry before a `StoreReady` to it. The figures are kept in
memory and refreshed in the background: the store answer's estimate costs no query.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog

from storeplane_contracts.queries import StepDurations, StoreView

log = structlog.get_logger("storeplane.status.stats")

# (step, the event before it, the event that ends it), in provisioning order.
STEP_EVENTS = (
    ("namespace", "ProvisioningStarted", "NamespaceCreated"),
    ("quota", "NamespaceCreated", "QuotaApplied"),
    ("limits", "QuotaApplied", "LimitsApplied"),
    ("network_policy", "LimitsApplied", "NetworkPolicyApplied"),
    ("credentials", "NetworkPolicyApplied", "CredentialsCreated"),
    ("chart", "CredentialsCreated", "ChartInstalled"),
    ("readiness", "ChartInstalled", "StoreReady"),
)
TO_READY = "to_ready"
# A note in the timeline while a step runs on: neither the end of a step nor the start of one.
NOT_A_STEP = "StepStalled"
# Only recent provisionings count: an engine's chart changes, and so does its speed.
WINDOW_DAYS = 30
BEING_PROVISIONED = frozenset({"requested", "provisioning"})

Load = Callable[[], Awaitable[list[StepDurations]]]


class StepStats:
    """The latest figures, by (engine, step)."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], StepDurations] = {}

    def replace(self, figures: list[StepDurations]) -> None:
        self._by_key = {(f.engine, f.step): f for f in figures}

    def all(self) -> list[StepDurations]:
        return sorted(self._by_key.values(), key=lambda f: (f.engine, f.step))

    def estimated_ready_at(self, store: StoreView, now: datetime) -> datetime | None:
        """While the store is being provisioned: its request time plus the engine's p50 to ready, or plus the
        p95 once the p50 has passed; None once both have passed (it is late: its timeline says why) or without
        figures for its engine yet."""
        if store.status not in BEING_PROVISIONED:
            return None
        figures = self._by_key.get((store.engine, TO_READY))
        if figures is None:
            return None
        for seconds in (figures.p50_seconds, figures.p95_seconds):
            estimate = store.created_at + timedelta(seconds=seconds)
            if estimate >= now:
                return estimate
        return None


async def refresh_step_stats(load: Load, stats: StepStats, *, every: float) -> None:
    """Keep `stats` current until cancelled; a failed read keeps the last figures."""
    while True:
        try:
            stats.replace(await load())
        except Exception as exc:
            log.info("step figures not read", error=repr(exc))
        await asyncio.sleep(every)


def step_stats_sql() -> str:
    """The query of `StoreRepository.step_stats`: one row per (engine, step) with samples, p50 and p95."""
    pairs = ", ".join(f"('{step}', '{before}', '{after}')" for step, before, after in STEP_EVENTS)
    return f"""
    WITH recent AS (
        SELECT e.store_id, s.engine, e.type, e.sequence, e.occurred_at,
               lag(e.type) OVER w AS previous_type, lag(e.occurred_at) OVER w AS previous_at
        FROM store_events e JOIN stores s ON s.id = e.store_id
        WHERE e.occurred_at > now() - interval '{WINDOW_DAYS} days' AND e.type <> '{NOT_A_STEP}'
        WINDOW w AS (PARTITION BY e.store_id ORDER BY e.sequence)
    ),
    steps(step, before, after) AS (VALUES {pairs}),
    durations AS (
        SELECT r.engine, st.step, extract(epoch FROM r.occurred_at - r.previous_at) AS seconds
        FROM recent r JOIN steps st ON st.after = r.type AND st.before = r.previous_type
        UNION ALL
        SELECT r.engine, '{TO_READY}', extract(epoch FROM r.occurred_at - (
            SELECT max(q.occurred_at) FROM store_events q
            WHERE q.store_id = r.store_id AND q.sequence < r.sequence
              AND q.type IN ('StoreRequested', 'StoreRetryRequested')))
        FROM recent r WHERE r.type = 'StoreReady'
    )
    SELECT engine, step, count(*) AS samples,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds) AS p95
    FROM durations WHERE seconds IS NOT NULL AND seconds >= 0
    GROUP BY engine, step
    """
