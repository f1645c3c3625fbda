"""A store namespace's default-deny network policy: what it lets in and out (the local cluster
accepts NetworkPolicy objects but does not enforce them, so the rules are checked here)."""

from __future__ import annotations

from storeplane_provisioner.adapters.kubernetes.cluster import IngressController, isolation_policy


def peers(rule: object, attribute: str) -> list[tuple[dict[str, str] | None, dict[str, str] | None]]:
    """(namespace labels, pod labels) of each peer; None where the peer does not select by it."""
    found = []
    for peer in getattr(rule, attribute):
        namespaces = peer.namespace_selector.match_labels if peer.namespace_selector else None
        pods = peer.pod_selector.match_labels if peer.pod_selector else None
        found.append((namespaces, pods))
    return found


def test_only_own_pods_and_the_ingress_controller_get_in() -> None:
    controller = IngressController(namespace="edge", pod_labels={"app": "traefik"})
    spec = isolation_policy(controller).spec
    assert spec.pod_selector.match_labels is None  # every pod of the store
    assert spec.policy_types == ["Ingress", "Egress"]
    [ingress] = spec.ingress
    assert peers(ingress, "_from") == [
        (None, None),  # the namespace's own pods (an empty pod selector)
        ({"kubernetes.io/metadata.name": "edge"}, {"app": "traefik"}),
    ]


def test_only_own_pods_and_the_cluster_dns_are_reachable() -> None:
    spec = isolation_policy(IngressController()).spec
    own, dns = spec.egress
    assert peers(own, "to") == [(None, None)] and own.ports is None
    assert peers(dns, "to") == [({"kubernetes.io/metadata.name": "kube-system"}, {"k8s-app": "kube-dns"})]
    assert sorted((p.protocol, p.port) for p in dns.ports) == [("TCP", 53), ("UDP", 53)]


def test_the_default_controller_is_ingress_nginx() -> None:
    [ingress] = isolation_policy(IngressController()).spec.ingress
    assert peers(ingress, "_from")[1] == (
        {"kubernetes.io/metadata.name": "ingress-nginx"},
        {"app.kubernetes.io/name": "ingress-nginx"},
    )
