"""One HTTP attempt: POST the signed body to the address the target check chose, and time it.

The connection goes to that address (no second DNS lookup that could answer differently), while
the request keeps the endpoint's `Host` header and, for https, its server name (SNI and the
certificate check are for the host, not the address). Redirects are not followed; only the
first KiB of the answer is read; the whole attempt is bounded by one timeout.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Mapping

import httpx

from storeplane_notifier.targets import IPAddress, Target

RESPONSE_KEPT_BYTES = 1024


@dataclasses.dataclass(frozen=True)
class Answer:
    """What one attempt got back: an HTTP status, or the transport error that prevented one."""

    status_code: int | None
    latency_ms: float
    body: str = ""
    error: str = ""
    retry_after: str | None = None


def pinned_url(target: Target, address: IPAddress) -> httpx.URL:
    return httpx.URL(target.url).copy_with(host=str(address))


def host_header(target: Target) -> str:
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == default else f"{host}:{target.port}"


async def post(
    client: httpx.AsyncClient,
    target: Target,
    address: IPAddress,
    headers: Mapping[str, str],
    body: bytes,
    *,
    timeout: float,
) -> Answer:
    """POST once; never raises for what the network or the receiver does."""
    started = time.perf_counter()
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    request = client.build_request(
        "POST",
        pinned_url(target, address),
        headers={**headers, "host": host_header(target)},
        content=body,
        extensions=extensions,
    )
    try:
        async with asyncio.timeout(timeout):
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                kept = await first_bytes(response)
            finally:
                await response.aclose()
    except TimeoutError:
        return Answer(None, elapsed_ms(started), error=f"timed out after {timeout:g} s")
    except httpx.HTTPError as exc:
        return Answer(None, elapsed_ms(started), error=f"{type(exc).__name__}: {exc}"[:300])
    text = kept.decode(errors="replace")
    return Answer(response.status_code, elapsed_ms(started), body=text, retry_after=response.headers.get("retry-after"))


async def first_bytes(response: httpx.Response) -> bytes:
    kept = b""
    async for chunk in response.aiter_raw():
        kept += chunk
        if len(kept) >= RESPONSE_KEPT_BYTES:
            break
    return kept[:RESPONSE_KEPT_BYTES]


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def new_client(timeout: float) -> httpx.AsyncClient:
    """One client for every endpoint; no connection is kept (it would be reused by address, whatever the host)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,  # no proxy from the environment: the connection must go to the checked address
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=0),
    )
