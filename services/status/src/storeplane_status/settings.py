"""The status service's settings: the shared ones plus where its read models live."""

from __future__ import annotations

from storeplane_runtime.settings import CommonSettings


class StatusSettings(CommonSettings):
    """Settings for the status service, from `STOREPLANE_*` environment variables."""

    database_url: str = "postgresql://storeplane@127.0.0.1:5433/storeplane"
    # Read-your-writes: how long a query with `min_sequence` waits for the projection to catch up.
    # Below the gateway's `query_timeout`, so a late projection still gets an answer back.
    read_your_writes_timeout: float = 3.0
    # Queries answered at once per subscriber; a query waiting for read-your-writes holds one slot.
    query_concurrency: int = 32
    database_pool_size: int = 10
    # Seconds FastStream waits for the message in hand when stopping.
    graceful_timeout: float = 10.0
