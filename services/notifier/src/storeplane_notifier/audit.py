"""What the notifier did on its own, told to the owner's audit entries: an endpoint disabled, a
message out of attempts. They go on the AUDIT stream as `CommandAudited` records with the owner
as actor (the gateway's audit queries show them); losing one is logged, never raised, since the
endpoint's state in Postgres records the same thing."""

from __future__ import annotations

import structlog
from faststream.nats import NatsBroker
from structlog.types import FilteringBoundLogger

from storeplane_contracts.audit import CommandAudited
from storeplane_notifier.delivering import Notice
from storeplane_runtime.bus import publish_audit

log: FilteringBoundLogger = structlog.get_logger(__name__)


def audit_entry(notice: Notice) -> CommandAudited:
    return CommandAudited(
        action=notice.action,
        outcome="failed",
        status_code=notice.status_code or 0,
        client_address="",
        actor_id=notice.owner_id,
        target=notice.endpoint_id,
        error_code=notice.reason[:200],
    )


async def tell(broker: NatsBroker, notice: Notice) -> None:
    log.warning(notice.action.replace("_", " "), endpoint_id=notice.endpoint_id, reason=notice.reason)
    try:
        await publish_audit(broker, audit_entry(notice))
    except Exception as exc:
        log.warning("audit record not published", action=notice.action, error=repr(exc))
