"""What consultations add to the staff worklist: consultations started and not yet decided.

Registered in ConsultationsConfig.ready().
"""

from django.db.models import Count, QuerySet, Window
from django.utils import timezone

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.consultations.models import Consultation
from cellclinic.core.plugs import WorkFound, WorkRow, worklist_day, worklist_links

IN_PROGRESS = "consultations.in_progress"


def runs_consultations(user: User) -> bool:
    """Practitioners run consultations and sign their decisions."""
    return has_permission(user, Permission.CONSULTATION_RUN)


def _open(user: User) -> QuerySet[Consultation]:
    return Consultation.objects.visible_to(user, Permission.CONSULTATION_RUN).filter(
        status=Consultation.Status.OPEN
    )


def in_progress_count(user: User) -> int:
    """How many consultations at the user's clinics wait for a decision (one aggregate query)."""
    return _open(user).count()


def in_progress(user: User, limit: int) -> WorkFound:
    """The consultations open longest, and how many are open in all (one query)."""
    found = list(
        _open(user)
        .annotate(total=Window(Count("pk")))
        .order_by("created_at", "pk")
        .values_list(
            "pk",
            "patient__family_name",
            "patient__given_name",
            "practitioner_id",
            "practitioner__first_name",
            "practitioner__last_name",
            "created_at",
            "total",
        )[:limit]
    )
    if not found:
        return WorkFound(0, [])
    today = timezone.localdate()
    link = worklist_links("consultations:detail")
    rows = []
    for pk, family, given, practitioner_id, first, last, started, _ in found:
        with_whom = "you" if practitioner_id == user.pk else f"{first} {last}".strip()
        rows.append(
            WorkRow(
                link(pk),
                f"{family.upper()}, {given}",
                f"Decision to sign, with {with_whom}",
                f"started {worklist_day(timezone.localdate(started), today)}",
            )
        )
    return WorkFound(found[0][-1], rows)
