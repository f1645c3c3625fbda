"""The gateway's domain model: who calls, what they own and the refusals its rules raise.

Plain msgspec structs and exceptions; nothing here knows HTTP, Postgres or NATS, and nothing
here imports the rest of the gateway (an import-linter contract says so).
"""
