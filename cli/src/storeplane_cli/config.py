"""Where the CLI keeps its settings and credentials, and which API a command talks to.

Two files under `$XDG_CONFIG_HOME/storeplane/` (`~/.config/storeplane/`): `config.json` names the
contexts (an API URL each) and the current one; `credentials.json` holds the tokens, keyed by API
URL so a token is only ever sent to the server that issued it. Both are written atomically with
mode 0600 in a 0700 folder: they hold secrets.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_API = "http://127.0.0.1:8080"
DEFAULT_CONTEXT = "default"


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "storeplane"


def read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    loaded = json.loads(path.read_text())
    return loaded if isinstance(loaded, dict) else {}


def write_private(path: Path, content: dict[str, Any]) -> None:
    """Replace `path` with `content`, readable by its owner only, never half-written."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w") as out:
            json.dump(content, out, indent=2, sort_keys=True)
            out.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def normalise_api(url: str) -> str:
    return url.strip().rstrip("/")


@dataclass
class Contexts:
    """The named API endpoints and which one commands use by default."""

    current: str = DEFAULT_CONTEXT
    apis: dict[str, str] = field(default_factory=lambda: {DEFAULT_CONTEXT: DEFAULT_API})

    @classmethod
    def load(cls) -> Contexts:
        raw = read_json(config_dir() / "config.json")
        apis = {str(name): str(api) for name, api in raw.get("contexts", {}).items()}
        return cls(current=str(raw.get("current", DEFAULT_CONTEXT)), apis=apis or {DEFAULT_CONTEXT: DEFAULT_API})

    def save(self) -> None:
        write_private(config_dir() / "config.json", {"current": self.current, "contexts": self.apis})

    def api_of(self, name: str | None) -> str:
        """The API URL of context `name` (the current one if None); KeyError for an unknown name."""
        return self.apis[name or self.current]


def resolve_api(flag: str | None, context: str | None) -> str:
    """The API to talk to: `--api`, else `STOREPLANE_API`, else the (current) context's."""
    chosen = flag or os.environ.get("STOREPLANE_API")
    if chosen:
        return normalise_api(chosen)
    return normalise_api(Contexts.load().api_of(context))


@dataclass
class Credentials:
    """What `storeplane login` saved for one API: a session (refreshable) or an API token."""

    token: str
    kind: str  # "session" or "api_token"
    email: str = ""
    refresh_token: str = ""
    expires_at: float = 0.0  # Unix time the access token expires (0: unknown, as for API tokens)

    def to_json(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "kind": self.kind,
            "email": self.email,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
        }


def _credentials_path() -> Path:
    return config_dir() / "credentials.json"


def load_credentials(api: str) -> Credentials | None:
    entry = read_json(_credentials_path()).get(normalise_api(api))
    if not isinstance(entry, dict) or not entry.get("token"):
        return None
    return Credentials(
        token=str(entry["token"]),
        kind=str(entry.get("kind", "session")),
        email=str(entry.get("email", "")),
        refresh_token=str(entry.get("refresh_token", "")),
        expires_at=float(entry.get("expires_at", 0.0)),
    )


def save_credentials(api: str, credentials: Credentials | None) -> None:
    """Store (or with None, forget) the credentials for `api`, keeping every other API's."""
    everything = read_json(_credentials_path())
    if credentials is None:
        everything.pop(normalise_api(api), None)
    else:
        everything[normalise_api(api)] = credentials.to_json()
    write_private(_credentials_path(), everything)
