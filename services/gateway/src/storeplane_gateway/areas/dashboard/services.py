"""Which built file of the dashboard a path names, and how long a browser may keep it.

Vite writes the app into one folder (`dist/`): `index.html`, which names the current bundle, and the
bundle itself under `assets/`, each file named by a hash of its content. So an asset never changes and
may be cached for a year, while `index.html` must be asked again each time (`no-cache`), or a browser
keeps an old page that names assets an upgrade removed (the blank screen after an upgrade). Any other
path that is not a file is one of the app's own routes (a deep link): it gets `index.html`, and the app's
router shows the page. The API's paths never fall back: an unknown one stays a JSON 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Paths that belong to the API and the operations routes: never the dashboard's.
NOT_DASHBOARD = ("/api", "/schema", "/metrics", "/health", "/ready")
ASSETS = "/assets/"
INDEX = "index.html"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# The app's own files only: no inline script, no other origin (the browser tests check the app keeps to it).
DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def is_dashboard_path(path: str) -> bool:
    """Whether `path` is the dashboard's: not under one of the API's (whole segments: `/healthz` is the app's)."""
    return not any(path == prefix or path.startswith(prefix + "/") for prefix in NOT_DASHBOARD)


@dataclass(frozen=True)
class Served:
    """A file to answer with, and its cache policy."""

    path: Path
    cache_control: str


class DashboardFiles:
    """The built dashboard in `root`: the file a request path names, or `index.html` for the app's routes."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    @property
    def root(self) -> Path:
        return self._root

    def built(self) -> bool:
        return (self._root / INDEX).is_file()

    def serve(self, path: str) -> Served | None:
        """What answers GET `path`: a file of the build, index.html for a deep link, None for a missing asset."""
        found = self._file(path)
        if found is not None and found.name != INDEX:
            return Served(found, IMMUTABLE if path.startswith(ASSETS) else REVALIDATE)
        if path.startswith(ASSETS) and found is None:
            return None  # a bundle's file an upgrade removed: a 404, not a page in its place
        return Served(self._root / INDEX, REVALIDATE)

    def _file(self, path: str) -> Path | None:
        """The regular file under the root that `path` names; never one outside it (`..`, links)."""
        relative = path.lstrip("/")
        if not relative:
            return None
        candidate = (self._root / relative).resolve()
        if not candidate.is_relative_to(self._root) or not candidate.is_file():
            return None
        return candidate
