"""The dashboard's route: the built React app at `/`, its assets, and its deep links (`services.py`).

Its answers carry the dashboard's CSP (scripts, styles and connections to this origin only, no inline
script) instead of the API's, which allows nothing; `http/hardening.py` keeps a CSP a handler set. Not in
the API's OpenAPI schema: it is not part of the API. Until the dashboard is built, every one of its paths
answers 503 `dashboard_not_built`, saying how to build it.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.response import File

from storeplane_gateway.areas.dashboard.services import DASHBOARD_CSP, DashboardFiles, is_dashboard_path
from storeplane_gateway.http.errors import ApiError

NOT_BUILT = (
    "the dashboard has not been built: run `make up` (or `npm --prefix services/dashboard run build`), "
    "or set STOREPLANE_DASHBOARD_DIR to a built one"
)


@get(["/", "/{path:path}"], include_in_schema=False, sync_to_thread=False)
def dashboard(request: Request[Any, Any, Any], dashboard_files: NamedDependency[DashboardFiles]) -> File:
    path = request.url.path
    if not is_dashboard_path(path):
        raise NotFoundException()  # an unknown API path: the JSON 404
    if not dashboard_files.built():
        raise ApiError(503, "dashboard_not_built", NOT_BUILT)
    served = dashboard_files.serve(path)
    if served is None:
        raise NotFoundException()
    return File(
        served.path,
        filename=served.path.name,  # its media type is guessed from it
        content_disposition_type="inline",
        headers={"Cache-Control": served.cache_control, "Content-Security-Policy": DASHBOARD_CSP},
    )


def dashboard_router(files: DashboardFiles) -> Router:
    def provide_files() -> DashboardFiles:
        return files

    return Router(
        path="/",
        route_handlers=[dashboard],
        dependencies={"dashboard_files": Provide(provide_files, sync_to_thread=False)},
        include_in_schema=False,
    )
