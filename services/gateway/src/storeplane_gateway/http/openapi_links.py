"""OpenAPI links: what a client (or a fuzzer) can do next with the id a response just returned.

Litestar has no argument for links, so a route handler that has some names an `Operation`
subclass made here (`operation_class=links_from(...)`), which adds them to one response.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import Link, Operation
from litestar.openapi.spec import OpenAPIResponse as SpecResponse


def operation_ref(path: str, method: str) -> str:
    """A JSON pointer to the operation at `path` and `method` in this document."""
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method.lower()


def links_from(status: int, links: dict[str, tuple[str, str, dict[str, str]]]) -> type[Operation]:
    """An `Operation` whose `status` response links, by name, to (path, method, {parameter: expression})."""
    resolved = {
        name: Link(operation_ref=operation_ref(path, method), parameters=dict(parameters))
        for name, (path, method, parameters) in links.items()
    }

    @dataclass
    class LinkedOperation(Operation):
        """An operation whose response links onward."""

        def __post_init__(self) -> None:
            response = (self.responses or {}).get(str(status))
            if isinstance(response, SpecResponse):
                response.links = {**(response.links or {}), **resolved}

    return LinkedOperation
