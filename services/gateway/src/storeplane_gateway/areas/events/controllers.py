"""`GET /schema/asyncapi.json`: the AsyncAPI document of the STORES stream, beside the OpenAPI one.

The composition root builds the document once (from the event contracts, with FastStream) and
hands it to this router; it is public like the OpenAPI schema, since it describes the contract,
not anyone's data. It is not part of the HTTP API, so it is not in the OpenAPI schema.
"""

from __future__ import annotations

from litestar import Response, Router, get

ASYNCAPI_PATH = "/schema/asyncapi.json"


def events_contract_router(document: bytes) -> Router:
    """Serves `document` (JSON) at `/schema/asyncapi.json`."""

    @get(ASYNCAPI_PATH, include_in_schema=False, sync_to_thread=False, media_type="application/json")
    def asyncapi() -> Response[bytes]:
        return Response(document, media_type="application/json", headers={"Cache-Control": "public, max-age=300"})

    return Router(path="/", route_handlers=[asyncapi], tags=["operations"])
