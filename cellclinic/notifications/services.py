"""Notifying people: the in-app row, written in the caller's transaction, and its email, sent after commit.

`notify` is called by the service that owns an action, after its audit event and inside its transaction,
so the notification exists exactly when the action does. The email is handed to the task worker only
once the transaction has committed: a slow or failing mail server never slows or undoes the action.
A failed send is tried again later (states.RETRY_DELAYS_MINUTES), each attempt recorded on the row.
"""

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone

from cellclinic.accounts.access import require_permission
from cellclinic.accounts.models import Site, User
from cellclinic.accounts.roles import Permission
from cellclinic.audit.services import state_change
from cellclinic.core.errors import InvalidInput
from cellclinic.notifications import states
from cellclinic.notifications.models import Notification

logger = logging.getLogger(__name__)

ERROR_LIMIT = 500
# An email whose send has waited this long past its time with no task to send it was lost (a worker
# stopped in the middle of it, or the queue could not be reached when the action committed); a
# running send takes at most EMAIL_TIMEOUT seconds.
STRANDED_MINUTES = 10
NOT_FAILED = "only an email that failed can be sent again; this one is {state}"


def absolute_url(path: str) -> str:
    """PATH on this installation as a full address (CELLCLINIC_BASE_URL), for an email."""
    return f"{settings.CELLCLINIC_BASE_URL}{path}" if path.startswith("/") else path


def _render(template: str, part: str, context: Mapping[str, Any]) -> str:
    return render_to_string(f"{template}_{part}.txt", dict(context)).strip()


def notify(
    *,
    kind: str,
    template: str,
    site: Site,
    recipient: User | None = None,
    email: str | None = None,
    link: str = "",
    context: Mapping[str, Any] | None = None,
    actor: User | None = None,
    object_type: str = "",
    object_id: Any = "",
) -> Notification | None:
    """Tell RECIPIENT (a user: in their list, and by email to their address) or EMAIL alone about KIND.

    TEMPLATE names two text templates of the calling app, TEMPLATE_subject.txt and TEMPLATE_body.txt,
    rendered with CONTEXT plus `clinic` (SITE) and `link` (LINK, a path here, as a full address). EMAIL
    overrides the recipient's own address ("" sends none). Nobody is told about their own action: when
    RECIPIENT is ACTOR nothing is written; nor for a deactivated account, nor when there is nobody to
    tell. Call it inside the action's transaction; the email is queued when that commits.
    """
    if recipient is not None and (
        not recipient.is_active or (actor is not None and recipient.pk == actor.pk)
    ):
        return None
    address = (recipient.email if recipient is not None else "") if email is None else email
    if recipient is None and not address:
        return None
    full = {**(context or {}), "clinic": site, "link": absolute_url(link) if link else ""}
    notification = Notification.objects.create(
        site=site,
        recipient=recipient,
        kind=kind,
        subject=" ".join(_render(template, "subject", full).split())[:200],
        body=_render(template, "body", full),
        link=link,
        object_type=object_type,
        object_id=str(object_id),
        email=address,
        status=Notification.Status.QUEUED if address else Notification.Status.NONE,
    )
    if address:
        transaction.on_commit(partial(queue_email, notification.pk))
    return notification


def queue_email(notification_id: int) -> None:
    """Hand the email to the task worker, after the transaction that wrote it has committed. A queue that
    cannot be reached is logged and the action that caused the email stands; the row stays queued."""
    from cellclinic.notifications.tasks import send_notification_email

    try:
        send_notification_email.enqueue(notification_id)
    except Exception:
        logger.exception("could not queue the email of notification %s", notification_id)


def deliver(notification_id: int) -> str:
    """Send the email of one notification waiting for it, and record the attempt: sent, or the error and
    when it is tried again (retrying), or failed after the last attempt. Answers the state it leaves."""
    notification = Notification.objects.filter(pk=notification_id).first()
    waiting = (Notification.Status.QUEUED, Notification.Status.RETRYING)
    if notification is None or notification.status not in waiting or not notification.email:
        return notification.status if notification is not None else "missing"
    message = EmailMessage(
        subject=notification.subject,
        body=notification.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.email],
    )
    try:
        message.send()
    except Exception as error:  # any failure of the mail server or the network is retried
        return _record_failure(notification, f"{type(error).__name__}: {error}")
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk, status__in=waiting).update(
        status=Notification.Status.SENT,
        attempts=notification.attempts + 1,
        last_attempt_at=now,
        next_attempt_at=None,
        sent_at=now,
    )
    return Notification.Status.SENT


def requeue_stranded(now: datetime | None = None) -> int:
    """Queue again every email left waiting with no task to send it; how many.

    An email is left waiting when it is queued (or due for its next attempt) more than STRANDED_MINUTES
    ago and no task for it is ready to run, or running since less than STRANDED_MINUTES. The worker
    runs this at each start (`cellclinic requeue_emails`), so a worker that died mid-send loses nothing.
    """
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from cellclinic.notifications.tasks import send_notification_email

    now = now or timezone.now()
    cutoff = now - timedelta(minutes=STRANDED_MINUTES)
    pending = DBTaskResult.objects.filter(task_path=send_notification_email.module_path).filter(
        Q(status=TaskResultStatus.READY) | Q(status=TaskResultStatus.RUNNING, started_at__gte=cutoff)
    )
    looked_after = {
        args_kwargs["args"][0]
        for args_kwargs in pending.values_list("args_kwargs", flat=True)
        if args_kwargs["args"]
    }
    stranded = list(
        Notification.objects.filter(
            Q(status=Notification.Status.QUEUED, created_at__lt=cutoff)
            | Q(status=Notification.Status.RETRYING, next_attempt_at__lt=cutoff)
        )
        .exclude(pk__in=looked_after)
        .values_list("pk", flat=True)
    )
    for notification_id in stranded:
        queue_email(notification_id)
    if stranded:
        logger.warning("queued again %s email(s) left with no task to send them", len(stranded))
    return len(stranded)


def _record_failure(notification: Notification, error: str) -> str:
    now = timezone.now()
    attempts = notification.attempts + 1
    retry_at = states.next_attempt_at(attempts, now)
    status = Notification.Status.FAILED if retry_at is None else Notification.Status.RETRYING
    logger.warning("email of notification %s failed (attempt %s): %s", notification.pk, attempts, error)
    with transaction.atomic():
        updated = Notification.objects.filter(
            pk=notification.pk, status=notification.status, attempts=notification.attempts
        ).update(
            status=status,
            attempts=attempts,
            last_error=error[:ERROR_LIMIT],
            last_attempt_at=now,
            next_attempt_at=retry_at,
        )
        if updated and retry_at is not None:
            # In the same transaction as the attempt's record: the database backend's task row commits
            # with it, so a row that says "retrying" always has its next attempt queued.
            from cellclinic.notifications.tasks import send_notification_email

            send_notification_email.using(run_after=retry_at).enqueue(notification.pk)
    return status


@transaction.atomic
def notification_resend(*, notification_id: int, actor: User) -> Notification:
    """Queue a failed email again, for a clinic admin of its site (404 for anyone else, as for a missing
    one); audited. Its attempts start again from none; the last error stays until the next attempt."""
    sites = require_permission(actor, Permission.STAFF_MANAGE)
    locked = (
        Notification.objects.select_for_update(of=("self",))
        .select_related("site")
        .filter(pk=notification_id, site_id__in=sites)
        .first()
    )
    if locked is None:
        raise Http404("Not found")
    if locked.status != Notification.Status.FAILED:
        label = (
            states.NONE_LABEL if locked.status == states.NONE else states.EMAIL_STATES.label(locked.status)
        )
        raise InvalidInput.single("notification", NOT_FAILED.format(state=label))
    state_change(
        locked,
        to=Notification.Status.QUEUED,
        table=states.EMAIL_STATES,
        actor=actor,
        action="notification.resend",
        fields={"attempts": 0, "next_attempt_at": None},
        extra_after={"kind": locked.kind},
    )
    transaction.on_commit(partial(queue_email, locked.pk))
    return locked


def notification_open(notification: Notification) -> Notification:
    """Mark one of the reader's own notifications read (once: the first time is kept)."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notifications_mark_all_read(user: User) -> int:
    """Mark every unread notification of USER read; how many were."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
