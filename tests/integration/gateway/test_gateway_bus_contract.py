"""One contract for each JetStream adapter of the gateway, passed by it and by its fake alike: the
`Bus` (`NatsBus` and `FakeBus`) and the `AuditLog` (`NatsAuditLog` and `FakeAuditLog`).

Each asserts what the routes rely on: a publish answers the stream sequence of an event that is on the
stream, the newest sequence covers every accepted event, audit records read back newest first and
filtered, and NATS being away is `BusUnavailable` (a certain failure, so a quota slot is given back).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from infra.local.servers import Server, start_nats
from storeplane_contracts.audit import CommandAudited
from storeplane_contracts.events import Event, StoreDeletionRequested, StoreRequested, new_id
from storeplane_contracts.naming import namespace_for
from storeplane_contracts.subjects import subject_for, subject_of
from storeplane_gateway.adapters.nats.audit_log import WINDOW, NatsAuditLog
from storeplane_gateway.adapters.nats.bus import NatsBus
from storeplane_gateway.domain.errors import BusUnavailable, PublishUnconfirmed
from storeplane_gateway.ports import AuditLog, AuditRecord, Bus
from storeplane_runtime.bus import make_broker, publish_event
from tests.integration.gateway.buses import connected_bus, until
from tests.integration.gateway.support import stored_events
from tests.unit.gateway.fakes import FakeAuditLog, FakeBus

pytestmark = pytest.mark.integration


class Backend(Protocol):
    """A bus and an audit log on one connection, and what a test does to their world."""

    @property
    def bus(self) -> Bus: ...

    @property
    def audit(self) -> AuditLog: ...

    async def on_stream(self) -> list[str]:
        """The ids of the events this bus stored, in stream order."""
        ...

    async def published_elsewhere(self, event: Event) -> None:
        """Another service put `event` on the stream."""
        ...

    async def go_down(self) -> None:
        """NATS goes away (until it comes back)."""
        ...

    async def come_back(self) -> None:
        """NATS is back, with what its streams held."""
        ...


@dataclass
class FakeBackend:
    """The fakes, taken down by their switches."""

    bus: FakeBus
    audit: FakeAuditLog

    async def on_stream(self) -> list[str]:
        return [event.event_id for event in self.bus.published]

    async def published_elsewhere(self, event: Event) -> None:
        self.bus.by_others += 1

    async def go_down(self) -> None:
        self.bus.connected = False
        self.audit.available = False

    async def come_back(self) -> None:
        self.bus.connected = True
        self.audit.available = True


@dataclass
class NatsBackend:
    """The gateway's NATS adapters on one connection, as `app.py` builds them."""

    bus: NatsBus
    audit: NatsAuditLog
    url: str
    server: Server | None = None  # a server of the test's own, which it may stop and start again
    state_dir: Path | None = None  # where that server keeps its streams

    async def on_stream(self) -> list[str]:
        return [event.event_id for _, event in await stored_events(self.url, expected=await self.bus.last_sequence())]

    async def published_elsewhere(self, event: Event) -> None:
        other = make_broker(self.url, service="test-other-service")
        await other.connect()
        try:
            await publish_event(other, event)
        finally:
            await other.stop()

    async def go_down(self) -> None:
        assert self.server is not None, "stopping NATS needs a server of the test's own"
        self.server.stop()

        async def disconnected() -> bool:  # as the client sees it at once, before a probe would time out
            return not self.bus.nats_connected

        await until(disconnected)

    async def come_back(self) -> None:
        assert self.server is not None and self.state_dir is not None
        self.server = start_nats(self.state_dir, port=self.server.port)  # where the bus reconnects to

        async def connected() -> bool:
            return await self.bus.problem() is None

        await until(connected)


@pytest.fixture(params=["fake", "nats"])
async def backend(request: pytest.FixtureRequest, clean_audit: str) -> AsyncIterator[Backend]:
    """The fakes, or the adapters on the session's NATS with empty STORES and AUDIT streams."""
    if request.param == "fake":
        yield FakeBackend(bus=FakeBus(), audit=FakeAuditLog())
        return
    async with connected_bus(clean_audit) as bus:
        yield NatsBackend(bus=bus, audit=NatsAuditLog(bus, fetch_timeout=2.0), url=clean_audit)


@pytest.fixture(params=["fake", "nats"])
async def mortal_backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """Like `backend`, but on a NATS server of the test's own, so that it can go down."""
    if request.param == "fake":
        yield FakeBackend(bus=FakeBus(), audit=FakeAuditLog())
        return
    state_dir = tmp_path / "nats"
    servers = [start_nats(state_dir)]  # the first, and the one it was restarted as
    try:
        async with connected_bus(servers[0].url) as bus:
            audit = NatsAuditLog(bus, fetch_timeout=2.0)
            real = NatsBackend(bus=bus, audit=audit, url=servers[0].url, server=servers[0], state_dir=state_dir)
            yield real
            servers.append(real.server or servers[0])
    finally:
        for server in servers:
            server.stop()  # a stopped one is left as it is


def _requested(owner_id: str = "ada", name: str = "shop-one") -> StoreRequested:
    store_id = new_id()
    return StoreRequested(
        store_id=store_id, owner_id=owner_id, name=name, engine="woocommerce", namespace=namespace_for(name, store_id)
    )


def _deletion(request: StoreRequested) -> StoreDeletionRequested:
    return StoreDeletionRequested(store_id=request.store_id, owner_id=request.owner_id, namespace=request.namespace)


# The bus


async def test_a_publish_answers_the_sequence_of_the_stored_event(backend: Backend) -> None:
    first, second = _requested(), _requested(name="shop-two")
    assert await backend.bus.problem() is None
    assert await backend.bus.publish(first) == 1
    assert await backend.bus.publish(second) == 2
    assert await backend.bus.last_sequence() == 2
    assert await backend.on_stream() == [first.event_id, second.event_id]


async def test_the_newest_sequence_counts_the_events_of_others(backend: Backend) -> None:
    await backend.published_elsewhere(_requested(owner_id="bob"))
    await backend.published_elsewhere(_requested(owner_id="bob", name="shop-two"))
    assert await backend.bus.last_sequence() == 2
    mine = _requested()
    assert await backend.bus.publish(mine) == 3
    assert await backend.bus.last_sequence() == 3


async def test_the_stream_holds_a_published_event_by_its_subject(backend: Backend) -> None:
    request = _requested()
    assert not await backend.bus.holds(subject_for(request))
    await backend.bus.publish(request)
    assert await backend.bus.holds(subject_for(request))
    assert await backend.bus.holds(subject_of(request.store_id, StoreRequested))  # as the quota check asks
    assert not await backend.bus.holds(subject_for(_deletion(request)))  # another type of the same store
    assert not await backend.bus.holds(subject_of(new_id(), StoreRequested))  # another store


async def test_with_nats_down_the_bus_says_so_and_nothing_is_published(mortal_backend: Backend) -> None:
    await mortal_backend.bus.publish(_requested())
    await mortal_backend.go_down()

    assert await mortal_backend.bus.problem() is not None
    with pytest.raises(BusUnavailable) as refused:
        await mortal_backend.bus.publish(_requested(name="shop-two"))
    assert not isinstance(refused.value, PublishUnconfirmed)  # certainly not stored: the quota slot goes back
    with pytest.raises(BusUnavailable):
        await mortal_backend.bus.last_sequence()
    with pytest.raises(BusUnavailable):
        await mortal_backend.bus.holds(subject_of(new_id(), StoreRequested))


async def test_when_nats_is_back_the_bus_publishes_again_after_what_it_held(mortal_backend: Backend) -> None:
    before = _requested()
    assert await mortal_backend.bus.publish(before) == 1
    await mortal_backend.go_down()
    await mortal_backend.come_back()

    assert await mortal_backend.bus.problem() is None
    assert await mortal_backend.bus.holds(subject_for(before))
    after = _requested(name="shop-two")
    assert await mortal_backend.bus.publish(after) == 2
    assert await mortal_backend.bus.last_sequence() == 2
    assert await mortal_backend.on_stream() == [before.event_id, after.event_id]


# The audit log


def _audited(action: str, actor_id: str = "", *, target: str = "") -> CommandAudited:
    return CommandAudited(
        action=action,
        outcome="succeeded" if actor_id else "refused",
        status_code=200 if actor_id else 401,
        client_address="127.0.0.1",
        actor_id=actor_id,
        actor_email=f"{actor_id}@example.com" if actor_id else "",
        credential="session" if actor_id else "none",
        target=target,
        method="POST",
        path="/api/v1/stores",
    )


def entries_of(records: list[AuditRecord]) -> list[CommandAudited]:
    return [record.entry for record in records]


async def test_audit_records_read_back_newest_first_as_recorded(backend: Backend) -> None:
    assert entries_of(await backend.audit.recent(limit=10)) == []
    entries = [_audited("login", "ada"), _audited("create_store", "ada", target=new_id()), _audited("login")]
    for entry in entries:
        await backend.audit.record(entry)
    assert entries_of(await backend.audit.recent(limit=10)) == entries[::-1]
    assert entries_of(await backend.audit.recent(limit=2)) == entries[:0:-1]
    assert entries_of(await backend.audit.recent(limit=0)) == []


async def test_audit_records_read_back_below_a_sequence_are_the_next_page(backend: Backend) -> None:
    entries = [_audited("login", "ada"), _audited("login", "bob"), _audited("create_store", "ada"), _audited("login")]
    for entry in entries:
        await backend.audit.record(entry)
    first = await backend.audit.recent(limit=2)
    second = await backend.audit.recent(limit=2, before=first[-1].sequence)
    logins = await backend.audit.recent(limit=5, action="login", before=first[-1].sequence)

    assert entries_of(first + second) == entries[::-1]
    assert [r.sequence for r in first + second] == sorted((r.sequence for r in first + second), reverse=True)
    assert entries_of(logins) == [entries[1], entries[0]]
    assert await backend.audit.recent(limit=2, before=second[-1].sequence) == []


async def test_audit_records_filter_by_action_actor_or_both(backend: Backend) -> None:
    entries = [
        _audited("login", "ada"),
        _audited("login", "bob"),
        _audited("create_store", "ada"),
        _audited("login"),  # nobody authenticated: the anonymous actor
        _audited("delete_store", "bob"),
        _audited("login", "ada"),
    ]
    for entry in entries:
        await backend.audit.record(entry)

    def newest_first(*picked: int) -> list[CommandAudited]:
        return [entries[n] for n in sorted(picked, reverse=True)]

    assert entries_of(await backend.audit.recent(limit=10, action="login")) == newest_first(0, 1, 3, 5)
    assert entries_of(await backend.audit.recent(limit=2, action="login")) == newest_first(3, 5)
    assert entries_of(await backend.audit.recent(limit=10, actor_id="ada")) == newest_first(0, 2, 5)
    assert entries_of(await backend.audit.recent(limit=10, actor_id="anonymous")) == newest_first(3)
    assert entries_of(await backend.audit.recent(limit=10, action="login", actor_id="bob")) == newest_first(1)
    assert entries_of(await backend.audit.recent(limit=10, action="delete_store", actor_id="ada")) == []
    assert entries_of(await backend.audit.recent(limit=10, action="create_api_token")) == []


async def test_a_filter_finds_old_records_behind_many_newer_ones(backend: Backend) -> None:
    """More records than the real log scans at once (`WINDOW`) lie between the matches."""
    oldest, older = _audited("set_quota", "root"), _audited("set_quota", "root")
    await backend.audit.record(oldest)
    await backend.audit.record(older)
    for _ in range(WINDOW):
        await backend.audit.record(_audited("login", "ada"))
    assert entries_of(await backend.audit.recent(limit=5, action="set_quota")) == [older, oldest]
    assert entries_of(await backend.audit.recent(limit=1, actor_id="root")) == [older]
    assert len(await backend.audit.recent(limit=3)) == 3


async def test_with_nats_down_the_audit_log_neither_records_nor_reads(mortal_backend: Backend) -> None:
    await mortal_backend.audit.record(_audited("login", "ada"))
    await mortal_backend.go_down()

    with pytest.raises(BusUnavailable):
        await mortal_backend.audit.record(_audited("login", "bob"))
    with pytest.raises(BusUnavailable):
        await mortal_backend.audit.recent(limit=10)
