"""One attempt at one message, from the leased row to the recorded outcome.

The target is checked (and resolved) again before every attempt, the body signed anew with the
endpoint's current secrets, the answer recorded with the message's next state and the
endpoint's: a success ends its failure streak; a 410 or a streak longer than allowed disables it
(its pending messages stop). What disables an endpoint or exhausts a message is returned as a
`Notice`, for the audit trail. Each attempt is a span in the trace of the store event it tells of.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import structlog
from opentelemetry import propagate, trace
from structlog.types import FilteringBoundLogger

from storeplane_contracts.webhooks import ENDPOINT_DISABLED, MESSAGE_EXHAUSTED
from storeplane_notifier import metrics
from storeplane_notifier.policy import Outcome, RetrySchedule, failing_too_long, outcome_of, retry_after_seconds
from storeplane_notifier.sending import Answer, post
from storeplane_notifier.signing import signed_headers
from storeplane_notifier.storage import deliveries, endpoints
from storeplane_notifier.storage.deliveries import AttemptRecord, DueMessage
from storeplane_notifier.storage.endpoints import SigningEndpoint
from storeplane_notifier.storage.pool import Connection, Pool
from storeplane_notifier.targets import AllowList, TargetRefused, connectable, parse_url

log: FilteringBoundLogger = structlog.get_logger(__name__)
tracer = trace.get_tracer("storeplane.notifier")


@dataclasses.dataclass(frozen=True)
class Notice:
    """Something the owner should learn from the audit trail: an endpoint disabled, a message exhausted."""

    action: str  # webhook_endpoint_disabled | webhook_message_exhausted
    owner_id: str
    endpoint_id: str
    reason: str
    status_code: int | None = None


@dataclasses.dataclass(frozen=True)
class Policy:
    """The delivery rules from the settings."""

    allow: AllowList
    allow_http: bool
    timeout: float
    schedule: RetrySchedule
    disable_after: timedelta


def utcnow() -> datetime:
    return datetime.now(UTC)


class Deliverer:
    """Makes attempts and records them."""

    def __init__(
        self, pool: Pool, client: httpx.AsyncClient, policy: Policy, notify: Callable[[Notice], Awaitable[None]]
    ) -> None:
        self.pool = pool
        self.client = client
        self.policy = policy
        self.notify = notify

    async def deliver(self, message_id: str) -> None:
        """Attempt the leased message once (unless it was settled or its endpoint went meanwhile)."""
        message = await deliveries.leased(self.pool, message_id)
        at = utcnow()
        endpoint = None if message is None else await endpoints.signing_endpoint(self.pool, message.endpoint_id, at)
        if message is None or endpoint is None or not endpoint.enabled:
            return
        parent = propagate.extract(message.trace_context)
        with tracer.start_as_current_span(
            "webhook deliver", context=parent, kind=trace.SpanKind.CLIENT, attributes=span_attributes(message)
        ) as span:
            # The target's origin only: a URL's path or query may carry the receiver's own token.
            target = urlsplit(endpoint.url)
            span.set_attribute("webhook.target", f"{target.scheme}://{target.netloc.rpartition('@')[2]}")
            answer = await self.attempt(endpoint, message, at)
            outcome = "refused" if answer.error.startswith("target refused") else outcome_of(answer.status_code).value
            span.set_attribute("webhook.outcome", outcome)
            if answer.status_code is not None:
                span.set_attribute("http.response.status_code", answer.status_code)
            notices = await self.record(endpoint, message, answer, at)
        metrics.observe(outcome, answer.latency_ms)
        log.info(
            "webhook attempt",
            message_id=message.id,
            endpoint_id=endpoint.id,
            outcome=outcome,
            status_code=answer.status_code,
            error=answer.error,
            latency_ms=answer.latency_ms,
        )
        for notice in notices:
            await self.notify(notice)

    async def attempt(self, endpoint: SigningEndpoint, message: DueMessage, at: datetime) -> Answer:
        try:
            target = parse_url(endpoint.url, allow_http=self.policy.allow_http)
            address = await connectable(target, self.policy.allow)
        except TargetRefused as exc:
            return Answer(None, 0.0, error=f"target refused: {exc}")
        headers = signed_headers(endpoint.secrets, message.id, at, message.body)
        return await post(self.client, target, address, headers, message.body, timeout=self.policy.timeout)

    async def record(
        self, endpoint: SigningEndpoint, message: DueMessage, answer: Answer, at: datetime
    ) -> list[Notice]:
        """Store the attempt and what follows from it, in one transaction."""
        outcome = outcome_of(answer.status_code)
        attempt = AttemptRecord(
            at, answer.status_code, answer.error, answer.latency_ms, answer.body, outcome is Outcome.SUCCEEDED
        )
        async with self.pool.acquire() as connection, connection.transaction():
            await deliveries.record_attempt(connection, message.id, attempt)
            if outcome is Outcome.SUCCEEDED:
                await deliveries.settle(
                    connection,
                    message.id,
                    status="succeeded",
                    failed_attempts=message.failed_attempts,
                    next_attempt_at=None,
                )
                await endpoints.mark_success(connection, endpoint.id, at)
                return []
            if outcome is Outcome.GONE:
                return await self.disable(connection, endpoint, "gone", at, status_code=answer.status_code)
            return await self.failed(connection, endpoint, message, answer, at)

    async def failed(
        self, connection: Connection, endpoint: SigningEndpoint, message: DueMessage, answer: Answer, at: datetime
    ) -> list[Notice]:
        """Schedule the next attempt or exhaust the message; disable an endpoint failing too long."""
        failures = message.failed_attempts + 1
        wait = self.policy.schedule.next_wait(failures, retry_after_seconds(answer.retry_after, at))
        notices = []
        if wait is None:
            await deliveries.settle(
                connection, message.id, status="failed", failed_attempts=failures, next_attempt_at=None
            )
            await endpoints.count_exhausted(connection, endpoint.id, 1)
            metrics.EXHAUSTED.inc()
            reason = answer.error or f"HTTP {answer.status_code}"
            notices.append(Notice(MESSAGE_EXHAUSTED, endpoint.owner_id, endpoint.id, reason, answer.status_code))
        else:
            next_at = at + timedelta(seconds=wait)
            await deliveries.settle(
                connection, message.id, status="pending", failed_attempts=failures, next_attempt_at=next_at
            )
        since = await endpoints.mark_failure(connection, endpoint.id, at)
        if failing_too_long(since, at, self.policy.disable_after):
            notices += await self.disable(connection, endpoint, "failing", at, status_code=answer.status_code)
        return notices

    async def disable(
        self, connection: Connection, endpoint: SigningEndpoint, reason: str, at: datetime, *, status_code: int | None
    ) -> list[Notice]:
        """Disable the endpoint and stop its pending messages (counted as exhausted)."""
        if not await endpoints.disable(connection, endpoint.id, reason, at):
            return []
        stopped = await deliveries.fail_pending(connection, endpoint.id)
        await endpoints.count_exhausted(connection, endpoint.id, stopped)
        metrics.DISABLED.labels(reason).inc()
        return [Notice(ENDPOINT_DISABLED, endpoint.owner_id, endpoint.id, reason, status_code)]


def span_attributes(message: DueMessage) -> dict[str, str | int]:
    return {
        "webhook.id": message.id,
        "webhook.endpoint_id": message.endpoint_id,
        "webhook.attempt": message.failed_attempts + 1,
    }
