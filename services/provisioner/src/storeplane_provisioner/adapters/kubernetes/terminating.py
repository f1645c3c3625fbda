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


async def _group_versions(api: client.ApiClient) -> dict[str, str]:
    """Each API group's preferred `group/version`, from one discovery call."""
    groups = await client.ApisApi(api).get_api_versions()
    return {g.name: g.preferred_version.group_version for g in groups.groups if g.preferred_version is not None}


async def blocking_objects(api: client.ApiClient, namespace: str, conditions: list[Any]) -> list[str]:
    """The objects left in a terminating namespace that wait for finalizers, named with those finalizers."""
    blockers: list[str] = []
    group_versions: dict[str, str] | None = None  # asked for once, and only if a kind of an API group remains
    for group_resource in remaining_resources(conditions):
        resource, _, group = group_resource.partition(".")
        if not group:
            path = f"/api/v1/namespaces/{namespace}/{resource}"
        else:
            group_versions = group_versions if group_versions is not None else await _group_versions(api)
            if group not in group_versions:
                continue  # the kind's API is gone: the conditions already name it
            path = f"/apis/{group_versions[group]}/namespaces/{namespace}/{resource}"
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
