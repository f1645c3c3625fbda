"""The `Cluster` and `Drift` ports over the Kubernetes API, and what they read out of its objects."""
