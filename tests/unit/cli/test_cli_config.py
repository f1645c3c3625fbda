"""The CLI's files: private (0600 in a 0700 folder), under XDG_CONFIG_HOME, credentials kept per API
URL, and the API chosen by flag, then environment, then context."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from storeplane_cli.config import (
    DEFAULT_API,
    Contexts,
    Credentials,
    load_credentials,
    resolve_api,
    save_credentials,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_credentials_are_written_owner_only_in_an_owner_only_folder(config_home: Path) -> None:
    save_credentials("http://127.0.0.1:8080/", Credentials(token="t1", kind="session", refresh_token="r1"))
    path = config_home / "credentials.json"
    assert mode(path) == 0o600
    assert mode(config_home) == 0o700
    assert [p.name for p in config_home.iterdir()] == ["credentials.json"]  # no temporary file left behind


def test_an_existing_loose_file_becomes_private_when_rewritten(config_home: Path) -> None:
    config_home.mkdir(parents=True)
    (config_home / "credentials.json").write_text("{}")
    (config_home / "credentials.json").chmod(0o644)
    save_credentials("http://a", Credentials(token="t", kind="api_token"))
    assert mode(config_home / "credentials.json") == 0o600


def test_credentials_belong_to_one_api_and_logout_forgets_only_that_one() -> None:
    save_credentials("http://a:1", Credentials(token="ta", kind="session", email="a@example.com", expires_at=5.0))
    save_credentials("http://b:2/", Credentials(token="tb", kind="api_token"))
    assert load_credentials("http://a:1/") == Credentials(
        token="ta", kind="session", email="a@example.com", expires_at=5.0
    )
    save_credentials("http://a:1", None)
    assert load_credentials("http://a:1") is None
    loaded = load_credentials("http://b:2")
    assert loaded is not None and loaded.token == "tb"


def test_contexts_persist_and_the_api_is_flag_then_environment_then_context(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_api(None, None) == DEFAULT_API
    contexts = Contexts.load()
    contexts.apis["prod"] = "https://api.example.com"
    contexts.current = "prod"
    contexts.save()
    assert resolve_api(None, None) == "https://api.example.com"
    assert resolve_api(None, "default") == DEFAULT_API
    monkeypatch.setenv("STOREPLANE_API", "http://127.0.0.1:9000/")
    assert resolve_api(None, None) == "http://127.0.0.1:9000"
    assert resolve_api("http://127.0.0.1:7000", None) == "http://127.0.0.1:7000"
    with pytest.raises(KeyError):
        monkeypatch.delenv("STOREPLANE_API")
        resolve_api(None, "staging")


def test_the_config_lives_under_xdg_config_home(config_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Contexts(current="default", apis={"default": "http://x"}).save()
    assert (config_home / "config.json").exists()
    assert mode(config_home / "config.json") == 0o600
