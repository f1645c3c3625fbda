"""Every CLI unit test gets its own config folder (XDG_CONFIG_HOME) and no STOREPLANE_API."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("STOREPLANE_API", raising=False)
    return tmp_path / "config" / "storeplane"
