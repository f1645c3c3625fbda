"""Why a namespace will not go away: the objects whose finalizers hold its deletion back.

The namespace controller says which kinds of object remain (the `NamespaceContentRemaining`
condition, e.g. "configmaps. has 1 resource instances, widgets.example.com has 2 ...") but not
which objects; listing those kinds names them and their finalizers, so the store's timeline
can say exactly what to fix.
"""

from __future__ import annotations

import re
from typing import Any

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

_REMAINING = re.compile(r"([a-z0-9][a-z0-9.-]*) has \d+ resource instances")
# Enough to act on; a namespace holding more blocked objects says so with "and N more".
MAX_NAMED = 5


def remaining_resources(conditions: list[Any]) -> list[str]:
    """The group-resources (`configmaps`, `widgets.example.com`) the namespace controller still finds."""
    found: list[str] = []
    for condition in conditions:
        if condition.type == "NamespaceContentRemaining" and condition.status == "True":
            # The core group prints as `configmaps.`: a group-resource with an empty group.
            named = [match.rstrip(".") for match in _REMAINING.findall(condition.message or "")]
            found += [resource for resource in named if resource not in found]
    return found


def held_back(resource: str, items: list[dict[str, Any]]) -> list[str]:
    """`<resource>/<name> (finalizers: a, b)` for each listed object that has finalizers."""
    described = []
    for item in items:
        metadata = item.get("metadata", {})
        if finalizers := metadata.get("finalizers"):
            described.append(f"{resource}/{metadata.get('name', '?')} (finalizers: {', '.join(finalizers)})")
    return described


def summary(blockers: list[str]) -> str:
    named = "; ".join(blockers[:MAX_NAMED])
    return named + (f"; and {len(blockers) - MAX_NAMED} more" if len(blockers) > MAX_NAMED else "")


async def _list_path(api: client.ApiClient, group_resource: str, namespace: str) -> str | None:
    resource, _, group = group_resource.partition(".")
    if not group:
        return f"/api/v1/namespaces/{namespace}/{resource}"
    groups = await client.ApisApi(api).get_api_versions()
    for candidate in groups.groups:
        if candidate.name == group and candidate.preferred_version is not None:
            return f"/apis/{candidate.preferred_version.group_version}/namespaces/{namespace}/{resource}"
    return None


async def blocking_objects(api: client.ApiClient, namespace: str, conditions: list[Any]) -> list[str]:
    """The objects left in a terminating namespace that wait for finalizers, named with those finalizers."""
    blockers: list[str] = []
    for group_resource in remaining_resources(conditions):
        path = await _list_path(api, group_resource, namespace)
        if path is None:
            continue  # the kind's API is gone: the conditions already name it
        try:
            listing = await api.call_api(
                path,
                "GET",
                response_types_map={200: "object"},
                auth_settings=["BearerToken"],
                _return_http_data_only=True,
            )
        except ApiException:
            continue  # not ours to list (RBAC): the conditions still name the kind and finalizer
        blockers += held_back(group_resource, listing.get("items", []))
    return blockers
