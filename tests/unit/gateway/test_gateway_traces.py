"""GET /api/v1/stores/{id}/trace: the trace of the store's latest provisioning, from the trace backend, to
its owner and admins only; and how Jaeger's answer becomes the spans the API shows."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_contracts.queries import TimelineEntry
from storeplane_gateway.adapters.jaeger.traces import spans_of
from storeplane_gateway.domain.traces import TraceSpan
from tests.unit.gateway.fakes import Fakes
from tests.unit.gateway.helpers import assert_error, sign_up, sign_up_admin

FIRST, RETRY = "a" * 32, "b" * 32
AT = datetime(2026, 1, 1, tzinfo=UTC)


def requested(store_id: str, kind: str, trace_id: str, sequence: int) -> TimelineEntry:
    return TimelineEntry(
        event_id=f"{store_id}-{sequence}", type=kind, occurred_at=AT, sequence=sequence, data={"trace_id": trace_id}
    )


def span(name: str, service: str) -> TraceSpan:
    return TraceSpan(
        span_id=name,
        parent_id=None,
        service=service,
        name=name,
        start=AT,
        duration_ms=1.5,
        status="ok",
        attributes={"helm.release": "store"},
    )


async def test_the_owner_reads_the_latest_provisionings_trace(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    owner = await sign_up(client)
    store = fakes.status.add_store(owner_id=owner.id, name="shop")
    fakes.status.timelines[store.id] = [
        requested(store.id, "StoreRequested", FIRST, 1),
        requested(store.id, "StoreRetryRequested", RETRY, 5),
    ]
    fakes.traces.traces[RETRY] = [span("helm upgrade --install", "storeplane-provisioner")]
    answer = await client.get(f"/api/v1/stores/{store.id}/trace", headers=owner.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "trace_id": RETRY,
        "earlier_trace_ids": [FIRST],
        "spans": [
            {
                "span_id": "helm upgrade --install",
                "parent_id": None,
                "service": "storeplane-provisioner",
                "name": "helm upgrade --install",
                "start": "2026-01-01T00:00:00Z",
                "duration_ms": 1.5,
                "status": "ok",
                "attributes": {"helm.release": "store"},
            }
        ],
    }
    assert fakes.traces.asked == [RETRY]


async def test_another_user_gets_404_as_for_a_missing_store_and_an_admin_gets_it(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    owner = await sign_up(client)
    store = fakes.status.add_store(owner_id=owner.id, name="shop")
    fakes.status.timelines[store.id] = [requested(store.id, "StoreRequested", FIRST, 1)]
    stranger = await sign_up(client, email="eve@example.com")
    assert_error(await client.get(f"/api/v1/stores/{store.id}/trace", headers=stranger.headers), 404, "store_not_found")
    assert fakes.traces.asked == []  # nothing about another user's store is asked of the backend
    admin = await sign_up_admin(client, fakes.grant_admin)
    assert (await client.get(f"/api/v1/stores/{store.id}/trace", headers=admin.headers)).status_code == 200


async def test_the_backend_away_is_503_with_retry_after(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    owner = await sign_up(client)
    store = fakes.status.add_store(owner_id=owner.id, name="shop")
    fakes.status.timelines[store.id] = [requested(store.id, "StoreRequested", FIRST, 1)]
    fakes.traces.down = True
    answer = await client.get(f"/api/v1/stores/{store.id}/trace", headers=owner.headers)
    assert "trace backend" in assert_error(answer, 503, "traces_unavailable")
    assert answer.headers["retry-after"] == "7"


JAEGER_ANSWER = {
    "data": [
        {
            "traceID": FIRST,
            "spans": [
                {
                    "traceID": FIRST,
                    "spanID": "02",
                    "operationName": "step chart",
                    "references": [{"refType": "CHILD_OF", "traceID": FIRST, "spanID": "01"}],
                    "startTime": 1_767_225_600_500_000,
                    "duration": 2_500,
                    "processID": "p2",
                    "tags": [
                        {"key": "k8s.namespace.name", "type": "string", "value": "store-shop"},
                        {"key": "otel.status_code", "type": "string", "value": "ERROR"},
                        {"key": "internal.span.format", "type": "string", "value": "otlp"},
                    ],
                },
                {
                    "traceID": FIRST,
                    "spanID": "01",
                    "operationName": "POST /api/v1/stores",
                    "references": [],
                    "startTime": 1_767_225_600_000_000,
                    "duration": 9_000,
                    "processID": "p1",
                    "tags": [{"key": "http.response.status_code", "type": "int64", "value": 202}],
                },
            ],
            "processes": {"p1": {"serviceName": "storeplane-gateway"}, "p2": {"serviceName": "storeplane-provisioner"}},
        }
    ]
}


def test_jaegers_answer_becomes_spans_oldest_first_with_key_attributes() -> None:
    root, chart = spans_of(JAEGER_ANSWER)
    assert (root.name, root.service, root.parent_id, root.status) == (
        "POST /api/v1/stores",
        "storeplane-gateway",
        None,
        "unset",
    )
    assert root.start == datetime(2026, 1, 1, tzinfo=UTC) and root.duration_ms == 9.0
    assert root.attributes == {"http.response.status_code": 202}
    assert (chart.service, chart.parent_id, chart.status, chart.duration_ms) == (
        "storeplane-provisioner",
        "01",
        "error",
        2.5,
    )
    assert chart.attributes == {"k8s.namespace.name": "store-shop"}  # Jaeger's own tags left out


def test_an_empty_answer_is_no_spans() -> None:
    assert spans_of({"data": None}) == []
