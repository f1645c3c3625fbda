"""The contract of the gateway's `StoreSecrets`, passed by `NatsStoreSecrets` (asking over NATS, answered
by the provisioner's own credentials handler on an in-memory cluster) and by `FakeSecrets` alike.

It asserts what the credentials route relies on: a store's login is handed out once, then refused as
`already_revealed`; a provisioner that cannot reach the cluster, or does not answer, is
`ProvisionerUnavailable` (a 503 that says nothing was revealed) and spends nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

import msgspec
import nats
import pytest
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from storeplane_contracts import subjects
from storeplane_contracts.events import Event, new_id
from storeplane_contracts.naming import namespace_for
from storeplane_contracts.queries import CredentialsReply, RevealCredentials
from storeplane_gateway.adapters.nats.provisioner_client import NatsStoreSecrets
from storeplane_gateway.domain.errors import ProvisionerUnavailable
from storeplane_gateway.ports import StoreSecrets
from storeplane_provisioner.provisioning.config import CREDENTIALS_SECRET
from storeplane_provisioner.provisioning.credentials import reveal_credentials
from tests.integration.gateway.buses import connected_bus
from tests.unit.gateway.fakes import FakeSecrets
from tests.unit.provisioner.fakes import FakeCluster

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Store:
    """What the gateway asks about: a ready store's id, owner and namespace."""

    id: str
    owner_id: str
    namespace: str


class Backend(Protocol):
    """Store secrets, and the provisioner's world behind them."""

    @property
    def secrets(self) -> StoreSecrets: ...

    def add_store(self, owner_id: str, name: str) -> Store:
        """A provisioned store, its login kept in its namespace."""
        ...

    def lose_the_cluster(self, lost: bool = True) -> None:
        """The provisioner cannot reach Kubernetes (or can again)."""
        ...

    async def go_silent(self) -> None:
        """No provisioner answers any more."""
        ...


def _store(owner_id: str, name: str) -> Store:
    store_id = new_id()
    return Store(id=store_id, owner_id=owner_id, namespace=namespace_for(name, store_id))


@dataclass
class FakeBackend:
    """`FakeSecrets`, switched by its flag: it has but one way of being unavailable."""

    secrets: FakeSecrets

    def add_store(self, owner_id: str, name: str) -> Store:
        return _store(owner_id, name)

    def lose_the_cluster(self, lost: bool = True) -> None:
        self.secrets.cluster_down = lost

    async def go_silent(self) -> None:
        self.secrets.cluster_down = True


@dataclass
class NatsBackend:
    """The gateway's client, and a provisioner's credentials handler answering on NATS."""

    secrets: NatsStoreSecrets
    cluster: FakeCluster = field(default_factory=FakeCluster)
    noted: list[Event] = field(default_factory=list)  # what the handler put on the store's timeline
    responder: Subscription | None = None

    def add_store(self, owner_id: str, name: str) -> Store:
        store = _store(owner_id, name)
        self.cluster.namespaces[store.namespace] = {"storeplane.io/store-id": store.id}
        login = {"admin-user": "admin", "admin-password": new_id(), "admin-email": f"admin@{name}.localhost"}
        self.cluster.secrets[(store.namespace, CREDENTIALS_SECRET)] = login
        return store

    def lose_the_cluster(self, lost: bool = True) -> None:
        if lost:
            self.cluster.fail["credentials"] = ConnectionError("the Kubernetes API is unreachable")
        else:
            self.cluster.fail.pop("credentials", None)

    async def go_silent(self) -> None:
        assert self.responder is not None
        await self.responder.unsubscribe()

    async def _publish(self, event: Event) -> int:
        self.noted.append(event)
        return len(self.noted)

    async def answer(self, msg: Msg) -> None:
        """As the provisioner's subscriber answers a reveal."""
        query = msgspec.json.decode(msg.data, type=RevealCredentials)
        reply: CredentialsReply = await reveal_credentials(query, cluster=self.cluster, publish=self._publish)
        await msg.respond(msgspec.json.encode(reply))


@pytest.fixture(params=["fake", "nats"])
async def backend(request: pytest.FixtureRequest, clean_stream: str) -> AsyncIterator[Backend]:
    if request.param == "fake":
        yield FakeBackend(FakeSecrets())
        return
    provisioner = await nats.connect(clean_stream)
    try:
        async with connected_bus(clean_stream) as bus:
            real = NatsBackend(secrets=NatsStoreSecrets(bus, timeout=1.0))
            real.responder = await provisioner.subscribe(subjects.REVEAL_CREDENTIALS, cb=real.answer)
            await provisioner.flush()
            yield real
    finally:
        await provisioner.close()


async def _reveal(backend: Backend, store: Store) -> CredentialsReply:
    return await backend.secrets.reveal_credentials(store.id, store.owner_id, store.namespace)


async def test_a_login_is_handed_out_once_per_store(backend: Backend) -> None:
    first, second = backend.add_store("ada", "shop-one"), backend.add_store("ada", "shop-two")

    revealed = await _reveal(backend, first)
    assert not revealed.refused and revealed.credentials is not None
    assert revealed.credentials.username and revealed.credentials.password
    again = await _reveal(backend, first)
    assert (again.refused, again.credentials) == ("already_revealed", None)
    other = await _reveal(backend, second)  # another store's login is its own
    assert not other.refused and other.credentials is not None


async def test_a_provisioner_without_the_cluster_spends_nothing(backend: Backend) -> None:
    store = backend.add_store("ada", "shop-one")
    backend.lose_the_cluster()
    with pytest.raises(ProvisionerUnavailable):
        await _reveal(backend, store)
    backend.lose_the_cluster(False)
    revealed = await _reveal(backend, store)  # the one read was not used up
    assert revealed.credentials is not None


async def test_a_provisioner_that_does_not_answer_is_unavailable(backend: Backend) -> None:
    store = backend.add_store("ada", "shop-one")
    await backend.go_silent()
    with pytest.raises(ProvisionerUnavailable):
        await _reveal(backend, store)
