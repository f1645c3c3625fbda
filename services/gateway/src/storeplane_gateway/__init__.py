"""The gateway: Storeplane's only public HTTP API.

It authenticates users, validates store orders, publishes them as events on JetStream and
answers reads by asking the status service. `storeplane_gateway.app.create_app` builds it.
"""
