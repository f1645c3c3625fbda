"""The client's address: the connection's peer, or what a proxy the operator named says it is.

Rate limits and the audit trail key on `scope["client"]`. A client can write any
`X-Forwarded-For` it likes, so the header is read only when the connection comes from a proxy
listed in `forwarded_allow_ips` (none by default: nobody is believed), and then only its last
entry that is not such a proxy, and only if that entry is an IP address. Anything else (no
trusted proxy, an entry that is not an address) leaves the peer's own address in place.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import structlog
from litestar.middleware import DefineMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

log = structlog.get_logger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_proxies(text: str) -> tuple[Network, ...]:
    """`forwarded_allow_ips` parsed: comma-separated addresses or networks (`10.0.0.0/8`); ValueError if not."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _in(networks: Sequence[Network], address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
    return address is not None and any(address in network for network in networks)


def forwarded_for(header: str, proxies: Sequence[Network]) -> str | None:
    """The client `header` (an `X-Forwarded-For` received from a trusted proxy) names, or None."""
    for entry in reversed(header.split(",")):
        address = _address(entry)
        if address is None:
            return None  # not an address: believe nothing further left of it
        if not _in(proxies, address):
            return str(address)
    return None


class ForwardedClient:
    """ASGI middleware: sets `scope["client"]` from `X-Forwarded-For` sent by a trusted proxy."""

    def __init__(self, app: ASGIApp, proxies: Sequence[Network]) -> None:
        self.app = app
        self.proxies = tuple(proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client")
        if self.proxies and scope["type"] in ("http", "websocket") and peer and _in(self.proxies, _address(peer[0])):
            header = b",".join(value for name, value in scope["headers"] if name == b"x-forwarded-for")
            if header:
                client = forwarded_for(header.decode("latin-1"), self.proxies)
                if client is None:
                    log.warning("http.forwarded_for_ignored", reason="an entry is not an IP address", peer=peer[0])
                else:
                    scope["client"] = (client, 0)
        await self.app(scope, receive, send)


def forwarded_client(forwarded_allow_ips: str) -> DefineMiddleware:
    return DefineMiddleware(ForwardedClient, proxies=trusted_proxies(forwarded_allow_ips))
