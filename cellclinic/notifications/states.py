"""An email's delivery: its states, and when a failed send is tried again.

Pure: no Django. A notification with no email to send is NONE, outside the table. One with an email
starts queued; the worker sends it (sent) or records the failure and tries again later (retrying),
until the last attempt fails (failed). A clinic admin may queue a failed email again.
"""

from datetime import datetime, timedelta

from cellclinic.core.states import TransitionTable

NONE = "none"
QUEUED = "queued"
SENT = "sent"
RETRYING = "retrying"
FAILED = "failed"

EMAIL_STATES = TransitionTable(
    name="notification email",
    moves={
        QUEUED: frozenset({SENT, RETRYING, FAILED}),
        RETRYING: frozenset({SENT, FAILED}),
        SENT: frozenset(),
        FAILED: frozenset({QUEUED}),
    },
    labels={
        QUEUED: "waiting to be sent",
        RETRYING: "waiting to be tried again",
        SENT: "sent",
        FAILED: "failed",
    },
)

# Every value a notification's status takes: no email, or a state of its email's delivery.
STATUSES: tuple[str, ...] = (NONE, *EMAIL_STATES.states)
NONE_LABEL = "not sent by email"

# Minutes to wait after the first, second, ... failed attempt; after the last attempt the email fails.
RETRY_DELAYS_MINUTES: tuple[int, ...] = (1, 5, 30, 120)
MAX_ATTEMPTS = len(RETRY_DELAYS_MINUTES) + 1


def next_attempt_at(attempts: int, failed_at: datetime) -> datetime | None:
    """When to try again after ATTEMPTS attempts in all have failed, the last at FAILED_AT; None when
    that was the last attempt allowed."""
    if attempts < 1:
        raise ValueError("attempts counts the attempts made: at least 1 after a failure")
    if attempts >= MAX_ATTEMPTS:
        return None
    return failed_at + timedelta(minutes=RETRY_DELAYS_MINUTES[attempts - 1])
