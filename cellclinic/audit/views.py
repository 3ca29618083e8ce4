"""The audit trail page for clinic admins."""

from django.contrib.auth.decorators import login_required

from cellclinic.accounts.access import require_permission
from cellclinic.accounts.roles import Permission
from cellclinic.audit.forms import AuditFilterForm
from cellclinic.audit.models import AuditEvent
from cellclinic.audit.selectors import audit_event_list, audit_rows_for_page
from cellclinic.core.htmx import render_page_or_partial
from cellclinic.core.pagination import paginate


@login_required
def event_list(request):
    """Events of the admin's sites, newest first, filtered; the table alone for htmx requests."""
    require_permission(request.user, Permission.AUDIT_VIEW)
    form = AuditFilterForm(request.GET, reader=request.user)
    events = audit_event_list(request.user, form.filters()) if form.is_valid() else AuditEvent.objects.none()
    window = paginate(request, events)
    context = {
        "nav_active": "audit",
        "form": form,
        "window": window,
        "rows": audit_rows_for_page(window.page.object_list),
    }
    return render_page_or_partial(request, "audit/event_list.html", "audit/_results.html", context)
