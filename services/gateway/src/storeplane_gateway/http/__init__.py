"""HTTP plumbing shared by every area: the error shape and the one mapping of domain errors to answers,
authentication, the audit hook, idempotent commands, rate limits, hardening headers, OpenAPI links and tracing."""
