"""The gateway's own tables in Postgres (asyncpg): users, sessions, API tokens, store slots, failed
logins and idempotency keys, the pool they share and the migrations that make them."""
