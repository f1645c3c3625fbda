"""The ports' implementations, by technology: Kubernetes, the Helm CLI, the status service over NATS."""
