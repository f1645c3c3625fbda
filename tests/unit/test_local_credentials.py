"""`make up`'s secrets: random per state folder, private, and the same on the next start."""

from __future__ import annotations

import stat
from pathlib import Path

from infra.local.credentials import local_credentials
from storeplane_contracts.permissions import USER_NAMES


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_two_fresh_state_folders_get_different_secrets(tmp_path: Path) -> None:
    one, two = local_credentials(tmp_path / "one"), local_credentials(tmp_path / "two")
    assert one.jwt_secret != two.jwt_secret and len(one.jwt_secret) >= 32
    assert set(one.nats_passwords) == set(USER_NAMES)
    for user in USER_NAMES:
        assert one.nats_passwords[user] != two.nats_passwords[user]
    assert len(set(one.nats_passwords.values())) == len(USER_NAMES)  # a password per user


def test_the_key_file_is_private_and_reused_on_the_next_start(tmp_path: Path) -> None:
    first = local_credentials(tmp_path)
    folder = tmp_path / "secrets"
    assert _mode(folder) == 0o700
    for path in folder.iterdir():
        assert _mode(path) == 0o600, path
    assert (folder / "jwt-secret").read_text().strip() == first.jwt_secret
    again = local_credentials(tmp_path)
    assert again == first


def test_each_service_gets_its_own_login_and_only_the_gateway_the_key(tmp_path: Path) -> None:
    credentials = local_credentials(tmp_path)
    gateway, status = credentials.service_env("gateway"), credentials.service_env("status")
    assert gateway["STOREPLANE_NATS_USER"] == "gateway" and gateway["STOREPLANE_JWT_SECRET"] == credentials.jwt_secret
    assert status["STOREPLANE_NATS_PASSWORD"] == credentials.nats_passwords["status"]
    assert "STOREPLANE_JWT_SECRET" not in status
