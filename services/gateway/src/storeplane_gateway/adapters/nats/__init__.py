"""The gateway on NATS: its one connection (publishing on JetStream, request-reply), the clients of
the status service and the provisioner, the audit trail on the AUDIT stream, and its subscriber."""
