"""API tokens for integrations: make one (its secret shown once), list them, revoke one."""
