"""The status client speaks the contracts' queries and turns silence or nonsense into StatusUnavailable."""

from __future__ import annotations

import msgspec
import pytest

from storeplane_contracts import subjects
from storeplane_contracts.queries import CredentialsReply, FindLiveStoreByName, GetStore, StoreReply
from storeplane_gateway.adapters.nats.provisioner_client import NatsStoreSecrets
from storeplane_gateway.adapters.nats.request_reply import NoReply
from storeplane_gateway.adapters.nats.status_client import PROBE_STORE_ID, NatsStatusClient
from storeplane_gateway.domain.errors import ProvisionerUnavailable, StatusUnavailable


class ScriptedRequester:
    """Answers every request with `reply` (or raises it), recording what was asked."""

    def __init__(self, reply: bytes | Exception) -> None:
        self.reply = reply
        self.asked: list[tuple[str, bytes, float]] = []

    async def request(self, subject: str, payload: bytes, *, max_wait: float) -> bytes:
        self.asked.append((subject, payload, max_wait))
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


async def test_queries_go_to_the_contract_subjects_with_the_timeout() -> None:
    requester = ScriptedRequester(msgspec.json.encode(StoreReply(store=None)))
    client = NatsStatusClient(requester, timeout=2.5)
    assert await client.get_store("s1", "u1", min_sequence=7) is None
    assert await client.find_live_store_by_name("shop-one") is None
    (get_subject, get_payload, wait), (find_subject, find_payload, _) = requester.asked
    assert (get_subject, wait) == (subjects.QUERY_GET_STORE, 2.5)
    assert msgspec.json.decode(get_payload, type=GetStore) == GetStore(store_id="s1", owner_id="u1", min_sequence=7)
    assert find_subject == subjects.QUERY_FIND_LIVE_BY_NAME
    assert msgspec.json.decode(find_payload, type=FindLiveStoreByName) == FindLiveStoreByName(name="shop-one")


@pytest.mark.parametrize("reply", [NoReply("nobody home"), b"not json", b'{"stores": 3}'])
async def test_silence_or_nonsense_is_status_unavailable(reply: bytes | Exception) -> None:
    client = NatsStatusClient(ScriptedRequester(reply), timeout=1)
    with pytest.raises(StatusUnavailable):
        await client.list_stores("u1")


async def test_the_readiness_ping_asks_for_no_data_within_a_short_timeout() -> None:
    requester = ScriptedRequester(msgspec.json.encode(StoreReply(store=None)))
    await NatsStatusClient(requester, timeout=5.0).ping()
    [(subject, payload, wait)] = requester.asked
    assert (subject, wait) == (subjects.QUERY_GET_STORE, 2.0)
    assert msgspec.json.decode(payload, type=GetStore) == GetStore(store_id=PROBE_STORE_ID, owner_id="")


@pytest.mark.parametrize("reply", [NoReply("nobody home"), b""])  # silence, or the error reply's empty body
async def test_a_ping_without_an_answer_is_status_unavailable(reply: bytes | Exception) -> None:
    with pytest.raises(StatusUnavailable):
        await NatsStatusClient(ScriptedRequester(reply), timeout=1).ping()


@pytest.mark.parametrize(
    "reply", [NoReply("nobody home"), msgspec.json.encode(CredentialsReply(refused="unavailable"))]
)
async def test_a_provisioner_that_cannot_reveal_is_provisioner_unavailable(reply: bytes | Exception) -> None:
    secrets = NatsStoreSecrets(ScriptedRequester(reply), timeout=1)
    with pytest.raises(ProvisionerUnavailable):
        await secrets.reveal_credentials("s1", "u1", "store-shop-00000000")
