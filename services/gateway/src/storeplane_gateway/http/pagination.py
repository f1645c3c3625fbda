"""The plumbing of paged lists: the `limit` and `cursor` query parameters, and the next page's link.

The rules of a page (keyset reads, the cursor's form) are `storeplane_gateway.domain.pages`; here a
page becomes an answer: its list under the list's own key, `next` (the relative URL of the next page,
with the same filters) and, when there is a next page, a `Link: <...>; rel="next"` header.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response
from litestar.datastructures import ResponseHeader
from litestar.params import QueryParameter

from storeplane_gateway.domain.pages import DEFAULT_PAGE, MAX_PAGE

BodyT = TypeVar("BodyT")

# The field every page's body ends with.
NextPage = Annotated[
    str | None,
    msgspec.Meta(
        description="The relative URL of the next page, with the same filters and `limit`; null on the last page."
    ),
]

PageLimit = Annotated[
    int,
    QueryParameter(
        name="limit",
        ge=1,
        le=MAX_PAGE,
        description=f"Items per page, 1 to {MAX_PAGE} (default {DEFAULT_PAGE}).",
    ),
]
PageCursor = Annotated[
    str | None,
    QueryParameter(
        name="cursor",
        description="Where the page starts: opaque, from the previous answer's `next`; "
        "omit it for the first page. One that is not is a 400 `invalid_cursor`.",
    ),
]
# Query parameters that say where a page starts, left out of the next page's link (which says its own).
_POSITION = frozenset({"cursor", "before"})

LINK_HEADER = ResponseHeader(
    name="Link",
    documentation_only=True,
    description='`<next page URL>; rel="next"` (the body\'s `next`), present when there is a next page',
)


def next_url(request: Request[Any, Any, Any], cursor: str | None) -> str | None:
    """The relative URL of the page after this one, with this request's filters and limit; None on the last."""
    if cursor is None:
        return None
    kept = [(name, value) for name, value in request.query_params.multi_items() if name not in _POSITION]
    return f"{request.url.path}?{urlencode([*kept, ('cursor', cursor)])}"


def paged(body: BodyT, link: str | None) -> Response[BodyT]:
    """The answer for one page: `body` (which holds `next`), with the `Link` header when there is a next page."""
    return Response(body, headers={"Link": f'<{link}>; rel="next"'} if link else {})
