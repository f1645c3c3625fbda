"""Login sessions in Postgres (asyncpg): what makes a signed token revocable.

A token names its session; the session row says whether it is still active, and its account
which role the caller has now (never the token's claim). Logout revokes one
row, logout-all every row of the user, and a refresh swaps the session's one valid refresh token
id in a single conditional UPDATE, so a refresh token works once and a copied one used later
ends the session. Sessions long expired are deleted when new ones start.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

import asyncpg

from storeplane_gateway.adapters.postgres.pool import unavailable_when_down, uuid_or_none
from storeplane_gateway.domain.sessions import Session
from storeplane_gateway.domain.users import ROLES, Role

# Expired or revoked session rows are kept this long (for inspection), then deleted.
KEEP_ENDED_SESSIONS = "7 days"


class PostgresSessions:
    """`Sessions` on an asyncpg pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def start(self, session: Session) -> None:
        with unavailable_when_down():
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "INSERT INTO gateway_sessions (id, user_id, refresh_jti, expires_at) VALUES ($1, $2, $3, $4)",
                    uuid.UUID(session.id),
                    uuid.UUID(session.user_id),
                    session.refresh_jti,
                    session.expires_at,
                )
                await conn.execute(
                    f"""
                    DELETE FROM gateway_sessions WHERE user_id = $1
                    AND coalesce(revoked_at, expires_at) < now() - interval '{KEEP_ENDED_SESSIONS}'
                    """,
                    uuid.UUID(session.user_id),
                )

    async def active_role(self, session_id: str, user_id: str) -> Role | None:
        sid, uid = uuid_or_none(session_id), uuid_or_none(user_id)
        if sid is None or uid is None:
            return None
        with unavailable_when_down():
            role = await self._pool.fetchval(
                """
                SELECT u.role FROM gateway_sessions s JOIN gateway_users u ON u.id = s.user_id
                WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()
                """,
                sid,
                uid,
            )
        return cast(Role, role) if role in ROLES else None

    async def rotate(
        self, session_id: str, user_id: str, *, used_jti: str, next_jti: str, expires_at: datetime
    ) -> bool:
        sid, uid = uuid_or_none(session_id), uuid_or_none(user_id)
        if sid is None or uid is None:
            return False
        with unavailable_when_down():
            async with self._pool.acquire() as conn, conn.transaction():
                rotated = await conn.fetchval(
                    """
                    UPDATE gateway_sessions SET refresh_jti = $4, expires_at = $5
                    WHERE id = $1 AND user_id = $2 AND refresh_jti = $3 AND revoked_at IS NULL AND expires_at > now()
                    RETURNING true
                    """,
                    sid,
                    uid,
                    used_jti,
                    next_jti,
                    expires_at,
                )
                if not rotated:  # not active, or an old refresh token again: end the session
                    await conn.execute(
                        "UPDATE gateway_sessions SET revoked_at = now() WHERE id = $1 AND user_id = $2 "
                        "AND revoked_at IS NULL",
                        sid,
                        uid,
                    )
        return bool(rotated)

    async def end(self, session_id: str, user_id: str) -> bool:
        sid, uid = uuid_or_none(session_id), uuid_or_none(user_id)
        if sid is None or uid is None:
            return False
        with unavailable_when_down():
            ended = await self._pool.fetchval(
                """
                UPDATE gateway_sessions SET revoked_at = now()
                WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now()
                RETURNING true
                """,
                sid,
                uid,
            )
        return bool(ended)

    async def end_all(self, user_id: str) -> int:
        if (uid := uuid_or_none(user_id)) is None:
            return 0
        with unavailable_when_down():
            rows = await self._pool.fetch(
                """
                UPDATE gateway_sessions SET revoked_at = now()
                WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
                RETURNING id
                """,
                uid,
            )
        return len(rows)
