"""Pages: one's own notifications, and a clinic admin's failed emails with "Send again"."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.roles import Permission
from cellclinic.audit.services import record_search
from cellclinic.core.errors import InvalidInput
from cellclinic.core.pagination import paginate
from cellclinic.notifications import selectors, services

PAGE_SIZE = 25


@login_required
@require_GET
def notification_list(request):
    """The signed-in person's own notifications, newest first, unread marked; staff also see whether
    each email went out."""
    user = request.user
    window = paginate(request, selectors.notifications_of(user), per_page=PAGE_SIZE)
    notifications = list(window.page.object_list)
    return render(
        request,
        "notifications/list.html",
        {
            "window": window,
            "notifications": notifications,
            "any_unread": any(n.is_unread for n in notifications),
            "show_email_state": not user.is_patient,
            "can_see_failed": has_permission(user, Permission.STAFF_MANAGE),
            "nav_active": "notifications",
        },
    )


@login_required
@require_GET
def notification_open_view(request, notification_id: int):
    """Open one of one's own notifications: it is marked read, and the page where the thing is done
    follows (the list when it names none)."""
    notification = selectors.notification_of(request.user, notification_id)
    services.notification_open(notification)
    target = notification.link
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts=None) and target.startswith("/"):
        return redirect(target)
    return redirect("notifications:list")


@login_required
@require_POST
def notification_mark_all_read(request):
    count = services.notifications_mark_all_read(request.user)
    if count:
        messages.success(request, "Every notification is marked as read.")
    return redirect("notifications:list")


@login_required
@require_GET
def failed_email_list(request):
    """The emails of the admin's sites that failed after every attempt, with the last error of each."""
    failed = selectors.failed_emails_for_admin(request.user)
    window = paginate(request, failed, per_page=PAGE_SIZE)
    record_search(request, "notification")
    return render(
        request,
        "notifications/failed.html",
        {"window": window, "failed": list(window.page.object_list), "nav_active": "notifications"},
    )


@login_required
@require_POST
def failed_email_resend(request, notification_id: int):
    """Queue one failed email again (404 for an email of another site, as for a missing one)."""
    try:
        notification = services.notification_resend(notification_id=notification_id, actor=request.user)
    except InvalidInput as error:
        messages.error(request, "; ".join(e.message for e in error.errors) or error.detail)
    else:
        messages.success(request, f"The email “{notification.subject}” is queued to be sent again.")
    return redirect("notifications:failed")
