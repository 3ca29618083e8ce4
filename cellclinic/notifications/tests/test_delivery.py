"""Emails go out after the action commits, failed sends are retried with backoff, then marked failed."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cellclinic.candidacy.models import Enquiry
from cellclinic.candidacy.services import enquiry_create
from cellclinic.notifications.models import Notification
from cellclinic.notifications.services import deliver, notification_resend
from cellclinic.notifications.tests.conftest import run_due_tasks

pytestmark = pytest.mark.django_db

REFUSAL = "SMTPException: 421 mail.example.org: service not available"


def _request(site):
    return enquiry_create(
        assessment=None,
        data={"site": site, "name": "Noor Haddad", "email": "noor@example.org", "consent_to_contact": True},
    )


@pytest.fixture
def queued(clinic_a, django_capture_on_commit_callbacks):
    """A consultation request whose acknowledgement is queued."""
    with django_capture_on_commit_callbacks(execute=True):
        enquiry = _request(clinic_a)
    return enquiry, Notification.objects.get(kind="enquiry.received")


def test_the_email_is_queued_only_when_the_action_commits(clinic_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _request(clinic_a)
    assert not DBTaskResult.objects.exists()  # nothing queued inside the transaction
    assert len(callbacks) == 1
    callbacks[0]()
    assert DBTaskResult.objects.count() == 1
    assert Notification.objects.get().status == Notification.Status.QUEUED


def test_a_failing_mail_server_leaves_the_action_done_and_the_email_retrying(queued, refusing_mail):
    enquiry, notification = queued
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        assert run_due_tasks() == 1
    notification.refresh_from_db()
    assert Enquiry.objects.filter(pk=enquiry.pk, status=Enquiry.Status.NEW).exists()
    assert notification.status == Notification.Status.RETRYING
    assert notification.attempts == 1
    assert notification.last_error == REFUSAL
    assert notification.last_attempt_at == now
    assert notification.next_attempt_at == now + timedelta(minutes=1)
    assert mail.outbox == []


def test_a_retry_waits_for_its_time(queued, refusing_mail):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        run_due_tasks()
    with time_machine.travel(now + timedelta(seconds=59), tick=False):
        assert run_due_tasks() == 0
    with time_machine.travel(now + timedelta(seconds=61), tick=False):
        assert run_due_tasks() == 1
    queued[1].refresh_from_db()
    assert queued[1].attempts == 2
    assert queued[1].next_attempt_at == now + timedelta(seconds=61) + timedelta(minutes=5)


def _every_attempt_run() -> datetime:
    """Run the first attempt and each retry when it falls due; the time of the last."""
    now = timezone.now()
    for minutes in (0, 1, 5, 30, 120):
        now += timedelta(minutes=minutes)
        with time_machine.travel(now, tick=False):
            assert run_due_tasks() == 1
    return now


def test_after_five_failed_attempts_the_email_is_failed_and_tried_no_more(queued, refusing_mail):
    _, notification = queued
    now = _every_attempt_run()
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED
    assert notification.attempts == 5
    assert notification.next_attempt_at is None
    assert notification.last_error == REFUSAL
    with time_machine.travel(now + timedelta(days=2), tick=False):
        assert run_due_tasks() == 0
    assert mail.outbox == []


def test_a_later_retry_succeeds_once_the_mail_server_is_back(queued, refusing_mail, settings):
    _, notification = queued
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        run_due_tasks()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(now + timedelta(minutes=2), tick=False):
        assert run_due_tasks() == 1
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert notification.attempts == 2
    assert notification.sent_at == now + timedelta(minutes=2)
    assert notification.next_attempt_at is None
    [email] = mail.outbox
    assert email.to == ["noor@example.org"]


def test_a_sent_email_is_not_sent_twice(queued):
    _, notification = queued
    run_due_tasks()
    assert deliver(notification.pk) == Notification.Status.SENT
    assert len(mail.outbox) == 1


def test_a_failed_email_sent_again_by_the_clinic_admin_goes_out(
    queued, refusing_mail, settings, admin_al, django_capture_on_commit_callbacks
):
    _, notification = queued
    _every_attempt_run()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        notification_resend(notification_id=notification.pk, actor=admin_al)
    notification.refresh_from_db()
    assert notification.status == Notification.Status.QUEUED
    assert notification.attempts == 0
    assert run_due_tasks() == 1
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_committed_for_real_the_request_stands_while_its_email_fails(clinic_a, refusing_mail):
    with transaction.atomic():
        enquiry = _request(clinic_a)
    # Committed: on_commit has queued the email as its own task row.
    assert DBTaskResult.objects.count() == 1
    assert run_due_tasks() == 1
    assert Enquiry.objects.filter(pk=enquiry.pk).exists()
    assert Notification.objects.get().status == Notification.Status.RETRYING
