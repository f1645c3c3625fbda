"""Every pinned tool version has one source, infra/cluster/versions.env; copies must match it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pinned() -> dict[str, str]:
    lines = (ROOT / "infra" / "cluster" / "versions.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_service_image_installs_the_pinned_helm() -> None:
    dockerfile = (ROOT / "services" / "Dockerfile").read_text()
    defaults = re.findall(r"^ARG HELM_VERSION=(\S+)$", dockerfile, flags=re.MULTILINE)
    assert defaults == [pinned()["HELM_VERSION"]]
