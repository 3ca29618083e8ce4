"""The audit trail page for clinic admins."""

from django.contrib.auth.decorators import login_required

from cellclinic.accounts.access import require_permission
from cellclinic.accounts.roles import Permission
from cellclinic.audit.forms import AuditFilterForm
from cellclinic.audit.models import AuditEvent
from cellclinic.audit.selectors import (
    access_event_list,
    access_rows_for_page,
    audit_event_list,
    audit_rows_for_page,
)
from cellclinic.core.htmx import render_page_or_partial
from cellclinic.core.pagination import paginate


@login_required
def event_list(request):
    """Events of the admin's sites, newest first, filtered; the table alone for htmx requests.

    With "Show: reads and sign-ins" the page lists the access log instead of the changes."""
    require_permission(request.user, Permission.AUDIT_VIEW)
    form = AuditFilterForm(request.GET, reader=request.user)
    if form.shows_access():
        window = paginate(request, access_event_list(request.user, form.filters()))
        rows = access_rows_for_page(window.page.object_list)
        results = "audit/_access_results.html"
    else:
        events = (
            audit_event_list(request.user, form.filters()) if form.is_valid() else AuditEvent.objects.none()
        )
        window = paginate(request, events)
        rows = audit_rows_for_page(window.page.object_list)
        results = "audit/_results.html"
    context = {"nav_active": "audit", "form": form, "window": window, "rows": rows, "results": results}
    return render_page_or_partial(request, "audit/event_list.html", results, context)
