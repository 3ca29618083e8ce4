"""An email left with no task to send it (a worker stopped mid-send, or the queue was out of reach when
the action committed) is queued again when the worker next starts; one with a task is left alone."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from cellclinic.candidacy.services import enquiry_create
from cellclinic.notifications.models import Notification
from cellclinic.notifications.services import STRANDED_MINUTES, requeue_stranded
from cellclinic.notifications.tests.conftest import run_due_tasks

pytestmark = pytest.mark.django_db

LATER = timedelta(minutes=STRANDED_MINUTES, seconds=1)


@pytest.fixture
def queued(clinic_a, django_capture_on_commit_callbacks):
    """A consultation request whose acknowledgement is queued, with its task ready to run."""
    with django_capture_on_commit_callbacks(execute=True):
        enquiry_create(
            assessment=None,
            data={
                "site": clinic_a,
                "name": "Noor Haddad",
                "email": "noor@example.org",
                "consent_to_contact": True,
            },
        )
    return Notification.objects.get(kind="enquiry.received")


def _worker_stopped_mid_send(started_at) -> None:
    """The task was claimed and started, and its worker was killed before it finished."""
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING, started_at=started_at)


def test_an_email_whose_task_is_waiting_is_left_alone(queued):
    with time_machine.travel(timezone.now() + LATER, tick=False):
        assert requeue_stranded() == 0
    assert DBTaskResult.objects.count() == 1


def test_an_email_whose_worker_stopped_mid_send_is_queued_again_and_sent_once(queued):
    _worker_stopped_mid_send(timezone.now())
    with time_machine.travel(timezone.now() + timedelta(minutes=1), tick=False):
        assert requeue_stranded() == 0  # a send may still be running: too soon to tell
    with time_machine.travel(timezone.now() + LATER + timedelta(seconds=1), tick=False):
        assert requeue_stranded() == 1
        assert requeue_stranded() == 0  # its new task is ready: nothing is queued twice
        assert run_due_tasks() == 1
    queued.refresh_from_db()
    assert queued.status == Notification.Status.SENT
    assert [message.to for message in mail.outbox] == [["noor@example.org"]]


def test_an_email_the_queue_never_received_is_queued_again(queued):
    DBTaskResult.objects.all().delete()  # the queue was out of reach when the action committed
    with time_machine.travel(timezone.now() + timedelta(minutes=STRANDED_MINUTES - 1), tick=False):
        assert requeue_stranded() == 0  # not waiting long enough yet
    with time_machine.travel(timezone.now() + LATER, tick=False):
        assert requeue_stranded() == 1
        assert run_due_tasks() == 1
    assert len(mail.outbox) == 1


def test_a_retry_is_queued_again_only_once_its_time_has_long_passed(queued):
    now = timezone.now()
    Notification.objects.filter(pk=queued.pk).update(
        status=Notification.Status.RETRYING, attempts=1, next_attempt_at=now + timedelta(minutes=5)
    )
    DBTaskResult.objects.all().delete()
    with time_machine.travel(now + timedelta(minutes=5) + LATER - timedelta(seconds=2), tick=False):
        assert requeue_stranded() == 0
    with time_machine.travel(now + timedelta(minutes=5) + LATER, tick=False):
        assert requeue_stranded() == 1


def test_sent_failed_and_in_app_only_notifications_are_never_queued_again(queued):
    DBTaskResult.objects.all().delete()
    for status in (Notification.Status.SENT, Notification.Status.FAILED, Notification.Status.NONE):
        Notification.objects.filter(pk=queued.pk).update(status=status)
        with time_machine.travel(timezone.now() + LATER, tick=False):
            assert requeue_stranded() == 0
    assert not DBTaskResult.objects.exists()


def test_the_command_says_what_it_did(queued, capsys):
    DBTaskResult.objects.all().delete()
    call_command("requeue_emails")
    assert capsys.readouterr().out.strip() == "No email was left waiting."
    with time_machine.travel(timezone.now() + LATER, tick=False):
        call_command("requeue_emails")
    assert capsys.readouterr().out.strip() == "1 email(s) queued again."
