"""Naming rules for stores: what a valid name is and which namespace a store gets."""

from __future__ import annotations

import re
import uuid

NAMESPACE_PREFIX = "store-"
MAX_NAMESPACE = 63
SHORT_ID_LENGTH = 8
# "store-" + name + "-" + short id must fit a DNS-1123 label (63 characters).
MAX_NAME = MAX_NAMESPACE - len(NAMESPACE_PREFIX) - 1 - SHORT_ID_LENGTH
MIN_NAME = 3
RESERVED_NAMES = frozenset(
    {
        "platform",
        "admin",
        "api",
        "system",
        "test",
        "kube",
        "kubernetes",
        "default",
        "storeplane",
        "www",
        "root",
        "internal",
        "localhost",
        "status",
        "metrics",
        "health",
    }
)
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


class InvalidStoreName(ValueError):
    """The name cannot become a store name; the message says why and what to do."""


def normalize_name(raw: str) -> str:
    """Lower-case, trim, and turn runs of spaces and underscores into single hyphens."""
    return re.sub(r"[\s_]+", "-", raw.strip().lower())


def validate_name(raw: str) -> str:
    """Return the normalized name or raise InvalidStoreName with an actionable message."""
    name = normalize_name(raw)
    if len(name) < MIN_NAME:
        raise InvalidStoreName(f"name must be at least {MIN_NAME} characters long")
    if len(name) > MAX_NAME:
        raise InvalidStoreName(
            f"name must be at most {MAX_NAME} characters long so that its namespace fits "
            f"{MAX_NAMESPACE} characters; got {len(name)}"
        )
    if not _DNS_LABEL.match(name):
        raise InvalidStoreName(
            "name may contain only lower-case letters a-z, digits 0-9 and hyphens, and must "
            f"start and end with a letter or digit (a DNS-1123 label); got {name!r}"
        )
    if "--" in name:
        raise InvalidStoreName("name must not contain two hyphens in a row")
    if name in RESERVED_NAMES:
        raise InvalidStoreName(f"name {name!r} is reserved; choose another")
    return name


def namespace_for(name: str, store_id: str) -> str:
    """`store-<name>-<first 8 hex of the id>`: deterministic, unique, at most 63 characters."""
    short = store_id.replace("-", "")[:SHORT_ID_LENGTH]
    namespace = f"{NAMESPACE_PREFIX}{name}-{short}"
    assert len(namespace) <= MAX_NAMESPACE, namespace
    return namespace


def _canonical_uuid(raw: str) -> bool:
    try:
        return str(uuid.UUID(raw)) == raw
    except ValueError:
        return False


def command_problem(*, store_id: str, owner_id: str, namespace: str, name: str | None = None) -> str | None:
    """What makes a command read from the bus unfit for Kubernetes or Helm, or None when it is fit.

    The gateway made these fields by the rules above; the provisioner checks them again, so that a
    command published by anyone else cannot name another namespace, a label value or a release that
    the rules forbid."""
    if not _canonical_uuid(store_id):
        return f"store id {store_id!r} is not a canonical UUID"
    if not _LABEL_VALUE.match(owner_id):  # it becomes the namespace's owner-id label
        return f"owner id {owner_id!r} is not a Kubernetes label value"
    if name is not None:
        try:
            if validate_name(name) != name:
                return f"name {name!r} is not in its normalized form"
        except InvalidStoreName as exc:
            return str(exc)
        if namespace != namespace_for(name, store_id):
            return f"namespace {namespace!r} is not the store's own, {namespace_for(name, store_id)!r}"
    short = store_id.replace("-", "")[:SHORT_ID_LENGTH]
    fits = len(namespace) <= MAX_NAMESPACE and _DNS_LABEL.match(namespace) is not None
    if not (fits and namespace.startswith(NAMESPACE_PREFIX) and namespace.endswith(f"-{short}")):
        return f"namespace {namespace!r} is not a store namespace of store {store_id}"
    return None
