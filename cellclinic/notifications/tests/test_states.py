from datetime import UTC, datetime, timedelta

import pytest

from cellclinic.notifications import states

FAILED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_the_first_failures_are_tried_again_after_one_five_and_thirty_minutes_then_two_hours():
    waits = [states.next_attempt_at(attempts, FAILED_AT) - FAILED_AT for attempts in range(1, 5)]
    assert waits == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2)]


def test_the_fifth_failure_is_the_last():
    assert states.MAX_ATTEMPTS == 5
    assert states.next_attempt_at(5, FAILED_AT) is None
    assert states.next_attempt_at(6, FAILED_AT) is None


def test_no_attempt_has_no_retry_time():
    with pytest.raises(ValueError, match="at least 1"):
        states.next_attempt_at(0, FAILED_AT)


def test_a_failed_email_may_be_queued_again_and_a_sent_one_never_changes():
    assert states.EMAIL_STATES.allows(states.FAILED, states.QUEUED)
    assert states.EMAIL_STATES.is_final(states.SENT)
    assert not states.EMAIL_STATES.allows(states.SENT, states.QUEUED)
    assert states.NONE not in states.EMAIL_STATES.states
    assert states.STATUSES[0] == states.NONE
