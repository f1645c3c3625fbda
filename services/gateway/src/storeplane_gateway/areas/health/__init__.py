"""Probes for the platform: liveness and readiness."""
