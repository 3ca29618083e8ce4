"""What candidacy adds to the staff worklist: consultation requests nobody has handled yet.

A request waits while its status is new, as on the requests page's "new" filter, even when its enquirer
has been registered as a patient already (the row says so): it leaves once the clinic has contacted the
person, booked a consultation (starting one books it) or closed it. Registered in
CandidacyConfig.ready(); the Enquiries navigation link shows the same count.
"""

from django.db.models import Count, QuerySet, Window
from django.utils import timezone

from cellclinic.accounts.access import has_permission, site_ids_with
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.candidacy.models import Enquiry
from cellclinic.core.plugs import WorkFound, WorkRow, worklist_day, worklist_links

NEW_REQUESTS = "candidacy.new_requests"


def handles_requests(user: User) -> bool:
    """Practitioners, nurses and clinic admins answer consultation requests at their clinics."""
    return has_permission(user, Permission.ENQUIRY_HANDLE)


def _new(user: User) -> QuerySet[Enquiry]:
    return Enquiry.objects.visible_to(user, Permission.ENQUIRY_HANDLE).filter(status=Enquiry.Status.NEW)


def new_requests_count(user: User) -> int:
    """How many requests at the user's clinics are still new (one aggregate query)."""
    return _new(user).count()


def new_requests(user: User, limit: int) -> WorkFound:
    """The requests that have waited longest, and how many wait in all (one query)."""
    found = list(
        _new(user)
        .annotate(total=Window(Count("pk")))
        .order_by("created_at", "pk")
        .values_list("pk", "name", "site__code", "patient_id", "created_at", "total")[:limit]
    )
    if not found:
        return WorkFound(0, [])
    today = timezone.localdate()
    link = worklist_links("candidacy:enquiry_detail")
    several_clinics = len(site_ids_with(user, Permission.ENQUIRY_HANDLE)) > 1
    rows = []
    for pk, name, site, patient_id, sent, _ in found:
        what = f"New request at {site}" if several_clinics else "New request"
        if patient_id is not None:
            what += ", registered as a patient"
        rows.append(WorkRow(link(pk), name, what, f"sent {worklist_day(timezone.localdate(sent), today)}"))
    return WorkFound(found[0][-1], rows)
