"""The provisioner's answer over NATS request-reply: a store's admin credentials, handed out once.

The provisioner keeps them in Kubernetes; it refuses a second reveal (`already_revealed`) and says
when it cannot reach the cluster. Either silence or that is `ProvisionerUnavailable` (a 503 that
says nothing was revealed).
"""

from __future__ import annotations

from storeplane_contracts import subjects
from storeplane_contracts.queries import CredentialsReply, RevealCredentials
from storeplane_gateway.adapters.nats.request_reply import Requester, ask
from storeplane_gateway.domain.errors import ProvisionerUnavailable, StatusUnavailable


class NatsStoreSecrets:
    """`StoreSecrets` over NATS request-reply to the provisioner."""

    def __init__(self, requester: Requester, *, timeout: float) -> None:
        self._requester = requester
        self._timeout = timeout

    async def reveal_credentials(self, store_id: str, owner_id: str, namespace: str) -> CredentialsReply:
        query = RevealCredentials(store_id=store_id, owner_id=owner_id, namespace=namespace)
        try:
            reply = await ask(
                self._requester, subjects.REVEAL_CREDENTIALS, query, CredentialsReply, timeout=self._timeout
            )
        except StatusUnavailable as exc:  # the provisioner, not the status service, answers this one
            raise ProvisionerUnavailable(str(exc)) from exc
        if reply.refused == "unavailable":
            raise ProvisionerUnavailable("the provisioner could not reach the cluster")
        return reply
