"""The secrets of a local platform (`make up`, the end-to-end tests), made on first start.

Nothing here is a constant: the gateway's token signing key and every NATS user's password are
random, kept in `<state>/secrets/` (mode 0700, each file 0600) and reused on the next start, so
tokens stay valid across restarts and nobody with the source can sign or connect as a service.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.local.servers import kept_secret
from storeplane_contracts.permissions import USER_NAMES, server_config


@dataclass(frozen=True)
class LocalCredentials:
    """The signing key and the NATS passwords of one state folder."""

    jwt_secret: str
    nats_passwords: dict[str, str]

    def nats_authorization(self) -> str:
        """The nats-server `authorization` block: every user of the permission table."""
        return server_config(self.nats_passwords)

    def service_env(self, service: str) -> dict[str, str]:
        """What one service adds to the common environment: its NATS login (and the gateway its key)."""
        env = {"STOREPLANE_NATS_USER": service, "STOREPLANE_NATS_PASSWORD": self.nats_passwords[service]}
        if service == "gateway":
            env["STOREPLANE_JWT_SECRET"] = self.jwt_secret
        return env


def local_credentials(state_dir: Path) -> LocalCredentials:
    """The credentials kept in `state_dir`/secrets, made (random) where missing."""
    folder = state_dir / "secrets"
    return LocalCredentials(
        jwt_secret=kept_secret(folder / "jwt-secret", length=48),
        nats_passwords={name: kept_secret(folder / f"nats-{name}.password") for name in USER_NAMES},
    )
