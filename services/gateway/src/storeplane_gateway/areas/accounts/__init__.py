"""Accounts and sessions: register, log in, refresh, log out, the caller's account, and the guards
that say what a credential may do."""
