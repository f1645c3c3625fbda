"""Failures that decide what happens to the message: retry later, or fail the store now."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from storeplane_contracts.events import FailureStep


class ProvisioningError(Exception):
    """A step failed; `reason` is a short code, the message says what a user can do."""

    def __init__(self, step: FailureStep, reason: str, message: str) -> None:
        super().__init__(message)
        self.step: FailureStep = step
        self.reason = reason
        self.message = message


class TemporaryError(ProvisioningError):
    """Worth retrying: the cluster or Helm was unreachable or busy."""


class PermanentError(ProvisioningError):
    """Retrying the same request cannot help: the store fails with this reason."""


class StepTimedOut(TemporaryError):
    """A step ran past its own deadline: another attempt may finish it, unless the deadline of the
    whole provisioning has passed too (then the store fails, see `deadlines.bounded`)."""


class Withdrawn(Exception):
    """The store's deletion was requested while it was being provisioned: the request is moot, and
    what it had created is removed again (the deletion itself reports the store deleted)."""


@contextmanager
def blamed_on(step: FailureStep) -> Iterator[None]:
    """A fault of ours or of a library outside any step's deadline (publishing a step's event, asking
    whether the store was deleted) becomes a temporary failure of `step`, the step it came after."""
    try:
        yield
    except (ProvisioningError, Withdrawn):
        raise
    except Exception as exc:
        raise TemporaryError(step, "internal_error", repr(exc)) from exc
