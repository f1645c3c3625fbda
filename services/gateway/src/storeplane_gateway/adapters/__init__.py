"""The ports' implementations, by technology: `postgres/` (the gateway's own tables) and `nats/` (the
bus, the other services' answers and the audit trail). Only the composition root builds them."""
