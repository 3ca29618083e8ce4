"""Reading notifications: a person's own list, and a clinic admin's failed emails of their sites."""

from django.db.models import QuerySet
from django.http import Http404

from cellclinic.accounts.access import require_permission
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.notifications.models import Notification


def notifications_of(user: User) -> QuerySet[Notification]:
    """USER's own notifications, newest first; none for anyone not signed in."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def unread_count(user: User) -> int:
    """How many of USER's notifications are unread: one indexed count."""
    return notifications_of(user).filter(read_at__isnull=True).count()


def notification_of(user: User, notification_id: int) -> Notification:
    """One of USER's own notifications; 404 for anyone else's, as for a missing one."""
    notification = notifications_of(user).filter(pk=notification_id).first()
    if notification is None:
        raise Http404("Not found")
    return notification


def failed_emails_for_admin(user: User) -> QuerySet[Notification]:
    """The failed emails of the sites where USER manages staff (clinic admins), newest first; 404 for
    everyone else."""
    sites = require_permission(user, Permission.STAFF_MANAGE)
    return (
        Notification.objects.filter(site_id__in=sites, status=Notification.Status.FAILED)
        .select_related("site")
        .order_by("-created_at", "-id")
    )
