"""A store's admin login, handed to its owner once: read from the store's Secret, never kept here."""

from __future__ import annotations

import structlog

from storeplane_contracts.events import CredentialsRevealed
from storeplane_contracts.queries import CredentialsReply, RevealCredentials, StoreCredentials
from storeplane_provisioner.ports import Cluster, Publish
from storeplane_provisioner.provisioning.config import CREDENTIALS_SECRET

log = structlog.get_logger("storeplane.provisioner")


async def reveal_credentials(query: RevealCredentials, *, cluster: Cluster, publish: Publish) -> CredentialsReply:
    """Hand the store's admin login to its owner, once; the timeline records that it happened."""
    try:
        data = await cluster.take_secret_once(query.namespace, CREDENTIALS_SECRET, store_id=query.store_id)
    except Exception as exc:  # the cluster did not answer: nothing was taken, the owner may ask again
        log.warning("credentials not revealed", store_id=query.store_id, error=repr(exc))
        return CredentialsReply(refused="unavailable")
    if isinstance(data, str):
        return CredentialsReply(refused=data)
    try:
        await publish(CredentialsRevealed(store_id=query.store_id, owner_id=query.owner_id))
    except Exception as exc:  # the one read is spent: the owner gets it even if the timeline misses the note
        log.warning("reveal not noted in the timeline", store_id=query.store_id, error=repr(exc))
    return CredentialsReply(
        credentials=StoreCredentials(
            username=data.get("admin-user", ""),
            password=data.get("admin-password", ""),
            email=data.get("admin-email", ""),
        )
    )
