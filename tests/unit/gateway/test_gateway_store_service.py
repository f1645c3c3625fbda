"""The store rules, called on the service directly with the fakes: no HTTP, no password hashing.

What the API answers to each refusal is proven once, in `test_gateway_refusal_answers.py`, and the
HTTP tests (`test_gateway_stores.py`, `test_gateway_quotas.py`) prove the answers end to end.
"""

from __future__ import annotations

import asyncio
import uuid

import msgspec
import pytest

from storeplane_contracts import naming
from storeplane_contracts.events import StoreDeleted, StoreDeletionRequested, StoreRequested, StoreRetryRequested
from storeplane_contracts.queries import StoreError, StoreStatus, TimelineEntry
from storeplane_gateway.adapters.nats.subscribers import release_deleted_store
from storeplane_gateway.areas.stores.services import StorePolicy, StoreService
from storeplane_gateway.domain.errors import (
    AdminOnly,
    AlreadyDeleting,
    BusUnavailable,
    CredentialsAlreadyRevealed,
    InvalidCursor,
    InvalidStoreName,
    NameTaken,
    NotFailed,
    PublishUnconfirmed,
    QuotaExceeded,
    StoreBusy,
    StoreNotFound,
    StoreNotReady,
    UnsupportedEngine,
)
from storeplane_gateway.domain.pages import sequence_cursor, time_cursor
from storeplane_gateway.domain.principals import SCOPES, Principal
from storeplane_gateway.domain.users import Role, StoredUser, User
from tests.unit.gateway.fakes import Fakes

LEASE = 120.0
ALL_STATUSES: tuple[StoreStatus, ...] = (
    "requested",
    "provisioning",
    "ready",
    "degraded",
    "failed",
    "deleting",
    "deleted",
)


class Noted:
    """`AuditNotes` that keeps the targets it is told."""

    def __init__(self) -> None:
        self.targets: list[str] = []

    def __call__(self, *, actor: User | None = None, email: str | None = None, target: str | None = None) -> None:
        if target is not None:
            self.targets.append(target)


def caller(fakes: Fakes, email: str = "ada@example.com", *, role: Role = "user", limit: int | None = None) -> Principal:
    """A registered user's login session (no password: the service never sees one)."""
    user = StoredUser(id=str(uuid.uuid4()), email=email, password_hash="-", role=role, store_limit=limit)
    fakes.users.accounts[user.id] = user
    return Principal(id=user.id, email=email, role=role, scopes=frozenset(SCOPES), session_id=str(uuid.uuid4()))


def service(fakes: Fakes, *, engines: tuple[str, ...] = ("woocommerce",), default_limit: int = 5) -> StoreService:
    return StoreService(
        users=fakes.users,
        bus=fakes.bus,
        status=fakes.status,
        secrets=fakes.secrets,
        slots=fakes.slots,
        policy=StorePolicy(installable_engines=engines, default_store_limit=default_limit, slot_lease_seconds=LEASE),
    )


@pytest.fixture
def stores(fakes: Fakes) -> StoreService:
    return service(fakes)


@pytest.fixture
def ada(fakes: Fakes) -> Principal:
    return caller(fakes)


# Ordering: names, engines, quota and the name reservation.


async def test_an_order_publishes_store_requested_and_confirms_its_slot(
    stores: StoreService, fakes: Fakes, ada: Principal
) -> None:
    noted = Noted()
    event, sequence = await stores.order_store(ada, " Ada Shop", "woocommerce", notes=noted)
    assert fakes.bus.published == [event] and sequence == 1
    assert (event.owner_id, event.name, event.engine) == (ada.id, "ada-shop", "woocommerce")
    assert event.namespace == naming.namespace_for("ada-shop", event.store_id)
    assert noted.targets == [event.store_id]
    assert event.store_id in fakes.slots.slots and fakes.slots.reserved == {}  # confirmed, not a reservation


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("ab", "at least 3"),
        ("x" * 60, "at most"),
        ("-shop", "DNS-1123"),
        ("shop!", "DNS-1123"),
        ("my--shop", "two hyphens"),
        ("admin", "reserved"),
        ("", "at least 3"),
    ],
)
async def test_an_invalid_name_says_which_rule_it_breaks(
    stores: StoreService, fakes: Fakes, ada: Principal, name: str, fragment: str
) -> None:
    noted = Noted()
    with pytest.raises(InvalidStoreName) as refused:
        await stores.order_store(ada, name, "woocommerce", notes=noted)
    assert fragment in refused.value.reason
    assert fakes.bus.published == [] and noted.targets == []  # refused before the store had an id


@pytest.mark.parametrize(("engine", "known"), [("medusa", True), ("shopify", False)])
async def test_only_installable_engines_are_ordered(
    stores: StoreService, fakes: Fakes, ada: Principal, engine: str, known: bool
) -> None:
    with pytest.raises(UnsupportedEngine) as refused:
        await stores.order_store(ada, "shop-one", engine)
    assert (refused.value.engine, refused.value.known, refused.value.installable) == (engine, known, ("woocommerce",))
    assert fakes.bus.published == []


async def test_the_installable_engines_are_the_policys(fakes: Fakes, ada: Principal) -> None:
    event, _ = await service(fakes, engines=("woocommerce", "medusa")).order_store(ada, "shop-one", "medusa")
    assert event.engine == "medusa"


async def test_a_live_name_the_status_service_knows_is_taken_for_everyone(
    stores: StoreService, fakes: Fakes, ada: Principal
) -> None:
    fakes.status.add_store(owner_id="someone-else", name="shop-one", status="provisioning")
    with pytest.raises(NameTaken) as refused:
        await stores.order_store(ada, "Shop One", "woocommerce")
    assert refused.value.holder.name == "shop-one"
    assert fakes.bus.published == [] and fakes.slots.slots == {}


async def test_a_deleted_store_frees_its_name(stores: StoreService, fakes: Fakes, ada: Principal) -> None:
    fakes.status.add_store(owner_id="someone-else", name="shop-one", status="deleted")
    event, _ = await stores.order_store(ada, "shop-one", "woocommerce")
    assert event.name == "shop-one"


async def test_the_default_limit_refuses_the_sixth_store(stores: StoreService, fakes: Fakes, ada: Principal) -> None:
    for n in range(5):
        await stores.order_store(ada, f"shop-{n}", "woocommerce")
    with pytest.raises(QuotaExceeded) as refused:
        await stores.order_store(ada, "shop-5", "woocommerce")
    assert (refused.value.limit, refused.value.in_use) == (5, 5)
    assert len(fakes.bus.published) == 5


async def test_a_users_own_limit_overrides_the_default(stores: StoreService, fakes: Fakes) -> None:
    few, many = caller(fakes, "few@example.com", limit=1), caller(fakes, "many@example.com", limit=7)
    await stores.order_store(few, "few-one", "woocommerce")
    with pytest.raises(QuotaExceeded):
        await stores.order_store(few, "few-two", "woocommerce")
    for n in range(7):
        await stores.order_store(many, f"many-{n}", "woocommerce")
    with pytest.raises(QuotaExceeded) as refused:
        await stores.order_store(many, "many-7", "woocommerce")
    assert refused.value.limit == 7


async def test_concurrent_orders_cannot_exceed_the_limit(stores: StoreService, fakes: Fakes, ada: Principal) -> None:
    outcomes = await asyncio.gather(
        *(stores.order_store(ada, f"shop-{n}", "woocommerce") for n in range(10)), return_exceptions=True
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Ordered"] * 5 + ["QuotaExceeded"] * 5
    assert len(fakes.slots.slots) == len(fakes.bus.published) == 5


async def test_concurrent_orders_for_one_name_make_one_store(
    stores: StoreService, fakes: Fakes, ada: Principal
) -> None:
    bob = caller(fakes, "bob@example.com")
    outcomes = await asyncio.gather(
        *(stores.order_store(user, "shop-one", "woocommerce") for user in (ada, bob, ada, bob)),
        return_exceptions=True,
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["NameTaken"] * 3 + ["Ordered"]
    assert len(fakes.bus.published) == 1


async def test_a_request_the_bus_refuses_frees_its_slot(stores: StoreService, fakes: Fakes, ada: Principal) -> None:
    fakes.bus.connected = False
    with pytest.raises(BusUnavailable) as refused:
        await stores.order_store(ada, "shop-one", "woocommerce")
    assert not isinstance(refused.value, PublishUnconfirmed)
    assert fakes.slots.slots == {}
    fakes.bus.connected = True
    await stores.order_store(ada, "shop-one", "woocommerce")


async def test_a_lost_ack_keeps_the_slot_reserved_until_the_stream_says(stores: StoreService, fakes: Fakes) -> None:
    """The event may be stored though its ack was lost: giving the slot back would let a store exist without one."""
    ada, bob = caller(fakes, limit=1), caller(fakes, "bob@example.com")
    fakes.bus.ack_timeout = "stored"
    with pytest.raises(PublishUnconfirmed):
        await stores.order_store(ada, "shop-one", "woocommerce")
    [stored] = fakes.bus.published
    assert stored.store_id in fakes.slots.reserved  # still held
    fakes.bus.ack_timeout = None
    with pytest.raises(QuotaExceeded):
        await stores.order_store(ada, "shop-two", "woocommerce")
    with pytest.raises(NameTaken):
        await stores.order_store(bob, "shop-one", "woocommerce")

    # Once its lease is over the stream is asked: the request is there, so the slot is the store's.
    fakes.clock += LEASE
    with pytest.raises(QuotaExceeded) as refused:
        await stores.order_store(ada, "shop-two", "woocommerce")
    assert (refused.value.limit, refused.value.in_use) == (1, 1)
    assert stored.store_id in fakes.slots.slots and fakes.slots.reserved == {}
    with pytest.raises(NameTaken):
        await stores.order_store(bob, "shop-one", "woocommerce")


async def test_a_reservation_whose_request_never_reached_the_stream_is_freed_after_its_lease(
    stores: StoreService, fakes: Fakes
) -> None:
    ada, bob = caller(fakes, limit=1), caller(fakes, "bob@example.com")
    fakes.bus.ack_timeout = "lost"  # as good as a gateway dying between the reservation and the publish
    with pytest.raises(PublishUnconfirmed):
        await stores.order_store(ada, "shop-one", "woocommerce")
    assert fakes.bus.published == [] and len(fakes.slots.reserved) == 1
    fakes.bus.ack_timeout = None
    fakes.clock += LEASE - 1
    with pytest.raises(QuotaExceeded):  # within its lease
        await stores.order_store(ada, "shop-two", "woocommerce")

    fakes.clock += 1
    await stores.order_store(bob, "shop-one", "woocommerce")  # the name is free
    await stores.order_store(ada, "shop-two", "woocommerce")  # and so is Ada's quota
    assert sorted(event.name for event in fakes.bus.published if isinstance(event, StoreRequested)) == [
        "shop-one",
        "shop-two",
    ]
    assert fakes.slots.reserved == {}


async def test_a_deleted_store_frees_its_slot_and_name(stores: StoreService, fakes: Fakes, ada: Principal) -> None:
    event, _ = await stores.order_store(ada, "shop-one", "woocommerce")
    deleted = StoreDeleted(store_id=event.store_id, owner_id=ada.id, namespace=event.namespace)
    assert await release_deleted_store(deleted, slots=fakes.slots)
    assert not await release_deleted_store(deleted, slots=fakes.slots)  # a redelivery changes nothing
    assert fakes.slots.slots == {}


async def test_slots_of_stores_already_deleted_are_freed_when_in_the_way(
    stores: StoreService, fakes: Fakes, ada: Principal
) -> None:
    """StoreDeleted may not have reached the gateway yet: the status service's word frees the slot."""
    bob = caller(fakes, "bob@example.com")
    ordered = [(await stores.order_store(ada, f"shop-{n}", "woocommerce")).event for n in range(5)]
    for event in ordered:
        fakes.status.add_store(owner_id=ada.id, name=event.name, status="ready", store_id=event.store_id)

    fakes.status.set_status(ordered[0].store_id, "deleted")
    await stores.order_store(ada, "shop-new", "woocommerce")  # the quota had room after all
    with pytest.raises(QuotaExceeded):
        await stores.order_store(ada, "shop-newer", "woocommerce")

    fakes.status.set_status(ordered[1].store_id, "deleted")
    await stores.order_store(bob, ordered[1].name, "woocommerce")  # and the name is free
    assert ordered[1].store_id not in fakes.slots.slots


# Reading: ownership, read-your-writes.


async def test_a_store_is_read_with_the_min_sequence_given(stores: StoreService, fakes: Fakes, ada: Principal) -> None:
    store = fakes.status.add_store(owner_id=ada.id, name="shop-one")
    fakes.bus.by_others = 50
    assert (await stores.store(ada, store.id, min_sequence=42)).id == store.id
    assert fakes.status.min_sequences == [42]


async def test_a_min_sequence_beyond_the_stream_is_not_waited_for(
    stores: StoreService, fakes: Fakes, ada: Principal
) -> None:
    """No write has that sequence yet: the status service must not wait for it until the query times out."""
    store = fakes.status.add_store(owner_id=ada.id, name="shop-one")
    fakes.bus.by_others = 7
    await stores.store(ada, store.id, min_sequence=184556048)
    await stores.timeline(ada, store.id, min_sequence=184556048)
    assert fakes.status.min_sequences == [7, 7]


async def test_a_store_not_yet_projected_is_read_once_the_projection_catches_up(
    stores: StoreService, fakes: Fakes, ada: Principal
) -> None:
    _, sequence = await stores.order_store(ada, "shop-one", "woocommerce")
    store = fakes.status.add_store(owner_id=ada.id, name="shop-one", status="requested")
    fakes.status.projected_from[store.id] = sequence
    assert (await stores.store(ada, store.id)).id == store.id  # no min_sequence
    assert fakes.status.min_sequences == [0, sequence]


async def test_another_users_store_is_not_found_like_a_missing_one(
    stores: StoreService, fakes: Fakes, ada: Principal
) -> None:
    bob = caller(fakes, "bob@example.com")
    adas = fakes.status.add_store(owner_id=ada.id, name="shop-one")
    for raw in (adas.id, str(uuid.uuid4()), "not-a-uuid"):
        for read in (stores.store(bob, raw), stores.timeline(bob, raw), stores.delete_store(bob, raw)):
            with pytest.raises(StoreNotFound) as refused:
                await read
            assert refused.value.store_id == raw
    assert fakes.bus.published == []


async def test_an_admins_session_reads_every_store_but_not_their_credentials(
    stores: StoreService, fakes: Fakes, ada: Principal
) -> None:
    root = caller(fakes, "root@example.com", role="admin")
    adas = fakes.status.add_store(owner_id=ada.id, name="shop-one")
    fakes.status.add_store(owner_id=root.id, name="shop-two")
    assert (await stores.store(root, adas.id)).id == adas.id
    assert len((await stores.stores(root, all_owners=True)).items) == 2
    assert [store.name for store in (await stores.stores(root)).items] == ["shop-two"]
    with pytest.raises(StoreNotFound):
        await stores.credentials(root, adas.id)


async def test_only_an_admins_session_lists_every_store(stores: StoreService, fakes: Fakes, ada: Principal) -> None:
    mine = fakes.status.add_store(owner_id=ada.id, name="shop-one")
    fakes.status.add_store(owner_id="someone-else", name="shop-two")
    assert (await stores.stores(ada)).items == [mine]
    with pytest.raises(AdminOnly):
        await stores.stores(ada, all_owners=True)
    token = msgspec.structs.replace(caller(fakes, "root@example.com", role="admin"), session_id="", api_token_id="t")
    with pytest.raises(AdminOnly):  # admin powers come with a login session only
        await stores.stores(token, all_owners=True)


async def test_a_page_of_stores_names_the_next_and_the_last_names_none(
    stores: StoreService, fakes: Fakes, ada: Principal
) -> None:
    made = [fakes.status.add_store(owner_id=ada.id, name=f"shop-{i}") for i in range(5)]
    newest_first = sorted(made, key=lambda store: (store.created_at, store.id), reverse=True)

    first = await stores.stores(ada, limit=2)
    second = await stores.stores(ada, limit=2, cursor=first.next_cursor)
    last = await stores.stores(ada, limit=2, cursor=second.next_cursor)

    assert [page.items for page in (first, second, last)] == [newest_first[:2], newest_first[2:4], newest_first[4:]]
    assert last.next_cursor is None
    assert (await stores.stores(ada, limit=5)).next_cursor is None  # exactly one page: no empty page after it


async def test_a_cursor_that_is_not_the_lists_own_is_refused(
    stores: StoreService, fakes: Fakes, ada: Principal
) -> None:
    store = fakes.status.add_store(owner_id=ada.id, name="shop-one")
    fakes.status.timelines[store.id] = [
        TimelineEntry(event_id=str(uuid.uuid4()), type="StoreRequested", occurred_at=store.created_at, sequence=s)
        for s in (3, 4)
    ]
    timeline_cursor = (await stores.timeline_page(ada, store.id, limit=1, cursor=None)).next_cursor
    assert timeline_cursor is not None
    for wrong in (timeline_cursor, "not a cursor", "e30", "W10", "x" * 300):
        with pytest.raises(InvalidCursor):
            await stores.stores(ada, cursor=wrong)
    store_cursor = time_cursor(store.created_at, store.id)
    for wrong in (store_cursor, sequence_cursor(2**63), sequence_cursor(-1)):
        with pytest.raises(InvalidCursor):
            await stores.timeline_page(ada, store.id, cursor=wrong)
    rest = await stores.timeline_page(ada, store.id, limit=1, cursor=timeline_cursor)
    assert [entry.sequence for entry in rest.items] == [4]


async def test_a_timeline_comes_oldest_first(stores: StoreService, fakes: Fakes, ada: Principal) -> None:
    store = fakes.status.add_store(owner_id=ada.id, name="shop-one")
    fakes.status.timelines[store.id] = [
        TimelineEntry(event_id=str(uuid.uuid4()), type=kind, occurred_at=store.created_at, sequence=sequence)
        for kind, sequence in (("StoreReady", 9), ("StoreRequested", 3), ("NamespaceCreated", 5))
    ]
    fakes.bus.by_others = 9
    timeline = await stores.timeline(ada, store.id, min_sequence=9)
    assert [entry.type for entry in timeline] == ["StoreRequested", "NamespaceCreated", "StoreReady"]
    assert fakes.status.min_sequences == [9]


# Deleting and retrying: which statuses allow it.


@pytest.mark.parametrize("status", ["ready", "failed", "degraded"])
async def test_a_settled_store_can_be_deleted(
    stores: StoreService, fakes: Fakes, ada: Principal, status: StoreStatus
) -> None:
    store = fakes.status.add_store(owner_id=ada.id, name="shop-one", status=status)
    accepted = await stores.delete_store(ada, store.id)
    [event] = fakes.bus.published
    assert isinstance(event, StoreDeletionRequested)
    assert (event.store_id, event.owner_id, event.namespace) == (store.id, ada.id, store.namespace)
    assert accepted.store == store and accepted.sequence == 1


@pytest.mark.parametrize("status", ["requested", "provisioning"])
async def test_a_store_being_provisioned_cannot_be_deleted_yet(
    stores: StoreService, fakes: Fakes, ada: Principal, status: StoreStatus
) -> None:
    """A deletion now would race the provisioning steps (a namespace made after it ran would be left behind)."""
    store = fakes.status.add_store(owner_id=ada.id, name="shop-one", status=status)
    with pytest.raises(StoreBusy) as refused:
        await stores.delete_store(ada, store.id)
    assert (refused.value.name, refused.value.status) == ("shop-one", status)
    assert fakes.bus.published == []


@pytest.mark.parametrize("status", ["deleting", "deleted"])
async def test_deleting_twice_is_refused(
    stores: StoreService, fakes: Fakes, ada: Principal, status: StoreStatus
) -> None:
    store = fakes.status.add_store(owner_id=ada.id, name="shop-one", status=status)
    with pytest.raises(AlreadyDeleting) as refused:
        await stores.delete_store(ada, store.id)
    assert refused.value.status == status
    assert fakes.bus.published == []


async def test_a_deletion_that_failed_can_be_asked_for_again(
    stores: StoreService, fakes: Fakes, ada: Principal
) -> None:
    store = fakes.status.add_store(owner_id=ada.id, name="shop-one", status="deleting")
    blocked = StoreError(
        step="namespace_deletion",
        reason="namespace_stuck",
        message="held back by configmaps/hold (finalizers: example.com/keep)",
        retryable=True,
    )
    fakes.status.stores[store.id] = msgspec.structs.replace(store, error=blocked)
    await stores.delete_store(ada, store.id)
    [event] = fakes.bus.published
    assert isinstance(event, StoreDeletionRequested) and event.store_id == store.id


async def test_a_failed_store_is_retried_from_the_step_that_failed(
    stores: StoreService, fakes: Fakes, ada: Principal
) -> None:
    store = fakes.status.add_store(owner_id=ada.id, name="shop-one", status="failed")
    failure = StoreError(step="helm_release", reason="timeout", message="no pods", retryable=True)
    fakes.status.stores[store.id] = msgspec.structs.replace(store, error=failure)
    accepted = await stores.retry_store(ada, store.id)
    [event] = fakes.bus.published
    assert isinstance(event, StoreRetryRequested)
    assert (event.store_id, event.name, event.engine, event.namespace, event.failed_step) == (
        store.id,
        "shop-one",
        "woocommerce",
        store.namespace,
        "helm_release",
    )
    assert accepted.sequence == 1


@pytest.mark.parametrize("status", [status for status in ALL_STATUSES if status != "failed"])
async def test_only_a_failed_store_is_retried(
    stores: StoreService, fakes: Fakes, ada: Principal, status: StoreStatus
) -> None:
    store = fakes.status.add_store(owner_id=ada.id, name="shop-one", status=status)
    with pytest.raises(NotFailed) as refused:
        await stores.retry_store(ada, store.id)
    assert refused.value.status == status
    assert fakes.bus.published == []


# Credentials: once, to the owner, when ready.


async def test_credentials_are_revealed_once_when_ready(stores: StoreService, fakes: Fakes, ada: Principal) -> None:
    waiting = fakes.status.add_store(owner_id=ada.id, name="shop-two", status="provisioning")
    with pytest.raises(StoreNotReady):
        await stores.credentials(ada, waiting.id)
    ready = fakes.status.add_store(owner_id=ada.id, name="shop-one", status="ready")
    store, credentials = await stores.credentials(ada, ready.id)
    assert store == ready and credentials.username == "admin"
    with pytest.raises(CredentialsAlreadyRevealed):
        await stores.credentials(ada, ready.id)
