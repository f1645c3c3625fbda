"""Which of Helm's refusals a later attempt gets past (a step retried) and which fail the store."""

from __future__ import annotations

from storeplane_provisioner.adapters.helm import classify
from storeplane_provisioner.errors import PermanentError, TemporaryError


def test_a_release_another_helm_is_installing_is_tried_again() -> None:
    """Two attempts at once (a JetStream cluster's consumer leader changed while one worked): the one
    that loses the race is told the release exists; the store must not fail for it."""
    for stderr in ("Error: release: already exists", "Error: UPGRADE FAILED: release: already exists"):
        assert isinstance(classify("chart", stderr), TemporaryError)


def test_a_broken_chart_fails_the_store() -> None:
    failure = classify("chart", 'Error: template: store/templates/x.yaml:3: function "nope" not defined')
    assert isinstance(failure, PermanentError) and failure.reason == "chart_failed"
