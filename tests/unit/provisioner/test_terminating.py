"""Reading what holds a terminating namespace back from the namespace controller's conditions."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from storeplane_provisioner.adapters.kubernetes.terminating import held_back, remaining_resources, summary


def condition(type_: str, message: str, status: str = "True") -> SimpleNamespace:
    return SimpleNamespace(type=type_, status=status, message=message)


def test_the_remaining_kinds_come_from_the_content_condition() -> None:
    conditions = [
        condition("NamespaceDeletionDiscoveryFailure", "All resources successfully discovered", "False"),
        condition(
            "NamespaceContentRemaining",
            "Some resources are remaining: configmaps. has 1 resource instances, "
            "widgets.shop.example.com has 2 resource instances",
        ),
        condition("NamespaceFinalizersRemaining", "Some content in the namespace has finalizers remaining: x/y in 3"),
    ]

    assert remaining_resources(conditions) == ["configmaps", "widgets.shop.example.com"]
    assert (
        remaining_resources([condition("NamespaceContentRemaining", "configmaps. has 1 resource instances", "False")])
        == []
    )


def test_only_objects_with_finalizers_are_named_with_them() -> None:
    items: list[dict[str, Any]] = [
        {"metadata": {"name": "hold", "finalizers": ["example.com/a", "example.com/b"]}},
        {"metadata": {"name": "free"}},
    ]

    assert held_back("widgets.shop.example.com", items) == [
        "widgets.shop.example.com/hold (finalizers: example.com/a, example.com/b)"
    ]


def test_a_long_list_is_cut_short_with_a_count() -> None:
    blockers = [f"configmaps/c{i} (finalizers: x/y)" for i in range(8)]

    assert summary(blockers[:2]) == "configmaps/c0 (finalizers: x/y); configmaps/c1 (finalizers: x/y)"
    assert summary(blockers).endswith("configmaps/c4 (finalizers: x/y); and 3 more")
