"""The gateway: Storeplane's only public HTTP API.

It authenticates users (sessions and API tokens), keeps each user to their own stores and
their quota, validates store orders, publishes them as events on JetStream, answers reads by
asking the status service, and records every command on the audit trail.
`storeplane_gateway.app.create_app` builds it; the README's "Security model" describes the rules.
"""
