"""Which URLs an endpoint may have, and which address one attempt may connect to (SSRF guard).

A webhook URL is chosen by a user, so without a guard the notifier would POST wherever it is
told: into the cluster, to a cloud's metadata service, to the notifier's own machine. So:

- the URL must be `https` (`http` too in development), with a host and without credentials;
- the host is resolved once per attempt and every address it resolves to must be public
  (loopback, private, link-local, multicast, unspecified, reserved and cloud-metadata
  addresses are refused); the connection is then made to that very address (see `sending`),
  so a name cannot resolve to a public address for the check and a private one for the use;
- the operator may allow exceptions by exact host name or by CIDR
  (`STOREPLANE_WEBHOOK_ALLOWED_TARGETS`; `make up` allows loopback for a local receiver).

The same check runs when an endpoint is created or changed and before every attempt.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from storeplane_contracts.webhooks import MAX_URL_LENGTH

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud metadata services, refused by name as well as by address.
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data"})
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)


class TargetRefused(Exception):
    """The URL or the address it leads to may not be delivered to; the message says why."""

    def __init__(self, message: str, *, code: str = "target_refused") -> None:
        super().__init__(message)
        self.code = code


@dataclasses.dataclass(frozen=True)
class Target:
    """A checked URL's parts: what to connect to is decided per attempt."""

    url: str
    scheme: str
    host: str  # lower-case name or address literal (IPv6 without brackets)
    port: int


@dataclasses.dataclass(frozen=True)
class AllowList:
    """Operator-allowed exceptions: exact host names and networks."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                names.add(entry.strip().lower().rstrip("."))
        return cls(frozenset(names), tuple(networks))

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks if network.version == address.version)


def parse_url(url: str, *, allow_http: bool) -> Target:
    """Check the URL's form; raises `TargetRefused` (code `invalid_url`) saying what to fix."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"the URL is longer than {MAX_URL_LENGTH} characters", code="invalid_url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"not a valid URL: {exc}", code="invalid_url") from None
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        raise TargetRefused(f"the URL must start with {' or '.join(s + '://' for s in schemes)}", code="invalid_url")
    if not parts.hostname:
        raise TargetRefused("the URL has no host", code="invalid_url")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("the URL may not carry credentials; the signature proves the sender", code="invalid_url")
    default_port = 443 if parts.scheme == "https" else 80
    return Target(url=url, scheme=parts.scheme, host=parts.hostname.lower().rstrip("."), port=port or default_port)


def refusal_of(address: IPAddress) -> str | None:
    """Why an address may not be delivered to, or None when it is a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    checks = (
        (address in METADATA_ADDRESSES, "a cloud metadata address"),
        (address.is_loopback, "a loopback address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_private, "a private address"),
        (address.is_reserved or not address.is_global, "a reserved or non-public address"),
    )
    return next((why for refused, why in checks if refused), None)


def checked_addresses(target: Target, addresses: Sequence[IPAddress], allow: AllowList) -> list[IPAddress]:
    """The addresses to connect to, when every one the host resolved to may be reached."""
    if not addresses:
        raise TargetRefused(f"{target.host} does not resolve to any address")
    if target.host in allow.names:
        return list(addresses)
    if target.host in METADATA_HOSTS:
        raise TargetRefused(f"{target.host} is a cloud metadata service")
    for address in addresses:
        why = None if allow.allows_address(address) else refusal_of(address)
        if why is not None:
            shown = target.host if target.host == str(address) else f"{target.host} ({address})"
            raise TargetRefused(f"{shown} is {why}; the operator can allow it in STOREPLANE_WEBHOOK_ALLOWED_TARGETS")
    return list(addresses)


def literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def resolve(target: Target) -> list[IPAddress]:
    """The host's addresses (an address literal is its own); raises `TargetRefused` when it does not resolve."""
    literal = literal_address(target.host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TargetRefused(f"{target.host} cannot be resolved: {exc.strerror}") from None
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address not in found:
            found.append(address)
    return found


async def connectable(target: Target, allow: AllowList) -> IPAddress:
    """Resolve the target once and return the address this attempt connects to."""
    return checked_addresses(target, await resolve(target), allow)[0]
