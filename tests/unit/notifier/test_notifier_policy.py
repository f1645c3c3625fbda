"""The delivery policy: what an answer means, the retry schedule with jitter, Retry-After, disabling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storeplane_notifier.policy import Outcome, RetrySchedule, failing_too_long, outcome_of, retry_after_seconds
from storeplane_notifier.settings import DEFAULT_RETRY_SCHEDULE, NotifierSettings

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.SUCCEEDED),
        (204, Outcome.SUCCEEDED),
        (299, Outcome.SUCCEEDED),
        (301, Outcome.FAILED),  # redirects are failures, never followed
        (302, Outcome.FAILED),
        (400, Outcome.FAILED),
        (410, Outcome.GONE),
        (500, Outcome.FAILED),
        (None, Outcome.FAILED),  # no answer: timeout, connection refused, target refused
    ],
)
def test_only_a_2xx_is_success_and_410_is_gone(status: int | None, outcome: Outcome) -> None:
    assert outcome_of(status) is outcome


def test_the_default_schedule_is_5s_5min_30min_2h_5h_10h_10h() -> None:
    assert DEFAULT_RETRY_SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert NotifierSettings().webhook_retry_schedule == DEFAULT_RETRY_SCHEDULE


def test_the_schedule_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREPLANE_WEBHOOK_RETRY_SCHEDULE", "1,2,4")
    monkeypatch.setenv("STOREPLANE_WEBHOOK_ALLOWED_TARGETS", "127.0.0.0/8, receiver.local")
    settings = NotifierSettings()
    assert settings.webhook_retry_schedule == (1.0, 2.0, 4.0)
    assert settings.webhook_allowed_targets == ("127.0.0.0/8", "receiver.local")


def test_waits_follow_the_schedule_within_the_jitter_then_exhaust() -> None:
    low = RetrySchedule((5, 300), jitter=0.1, rand=lambda: 0.0)
    high = RetrySchedule((5, 300), jitter=0.1, rand=lambda: 0.999999)
    assert low.next_wait(1) == pytest.approx(4.5)
    assert high.next_wait(1) == pytest.approx(5.5, rel=1e-4)
    assert low.next_wait(2) == pytest.approx(270)
    assert low.next_wait(3) is None  # one failure more than the schedule has waits
    assert RetrySchedule((5,), jitter=0.0).next_wait(1) == 5


def test_retry_after_is_honoured_when_it_asks_for_longer() -> None:
    schedule = RetrySchedule((5,), jitter=0.0)
    assert schedule.next_wait(1, retry_after=60) == 60
    assert schedule.next_wait(1, retry_after=1) == 5


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after_seconds("120", NOW) == 120
    assert retry_after_seconds("Tue, 01 Dec 2026 12:02:00 GMT", NOW) == 120
    assert retry_after_seconds("999999999", NOW) == 24 * 3600  # capped
    assert retry_after_seconds("soon", NOW) is None
    assert retry_after_seconds(None, NOW) is None


def test_an_endpoint_failing_for_the_whole_window_is_to_be_disabled() -> None:
    window = timedelta(days=5)
    assert not failing_too_long(None, NOW, window)
    assert not failing_too_long(NOW - timedelta(days=4, hours=23), NOW, window)
    assert failing_too_long(NOW - timedelta(days=5), NOW, window)
