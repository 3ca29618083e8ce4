"""What consents add to the staff worklist: consents waiting for a signature, and recent withdrawals.

Registered in ConsentsConfig.ready(). A consent waits for the patient's signature (given in the portal,
or in clinic with a practitioner), then for the practitioner's countersignature; a withdrawal in the
last WITHDRAWN_DAYS days is listed so the clinic can cancel what was booked under it.
"""

from datetime import timedelta

from django.db.models import Count, QuerySet, Window
from django.utils import timezone

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.catalogue.registry import therapy_name
from cellclinic.consents.models import Consent
from cellclinic.core.plugs import WorkFound, WorkRow, worklist_day, worklist_links

AWAITING_PATIENT = "consents.awaiting_patient"
AWAITING_COUNTERSIGN = "consents.awaiting_countersign"
WITHDRAWN_RECENTLY = "consents.withdrawn_recently"
WITHDRAWN_DAYS = 14


def prepares_consent(user: User) -> bool:
    """Practitioners prepare consents, take the patient's signature in clinic and countersign."""
    return has_permission(user, Permission.CONSENT_PREPARE)


def handles_withdrawals(user: User) -> bool:
    """Practitioners, nurses and clinic admins act on a withdrawal (and may record one)."""
    return has_permission(user, Permission.CONSENT_WITHDRAW)


def _awaiting_patient(user: User) -> QuerySet[Consent]:
    return Consent.objects.visible_to(user, Permission.CONSENT_PREPARE).filter(
        status=Consent.Status.AWAITING_PATIENT
    )


def _awaiting_countersign(user: User) -> QuerySet[Consent]:
    return Consent.objects.visible_to(user, Permission.CONSENT_PREPARE).filter(
        status=Consent.Status.AWAITING_PRACTITIONER
    )


def _withdrawn_recently(user: User) -> QuerySet[Consent]:
    since = timezone.now() - timedelta(days=WITHDRAWN_DAYS)
    return Consent.objects.visible_to(user, Permission.CONSENT_WITHDRAW).filter(
        status=Consent.Status.WITHDRAWN, withdrawn_at__gte=since
    )


def _first(consents: QuerySet[Consent], when_field: str, *, newest_first: bool, limit: int) -> list[tuple]:
    """(id, family name, given name, therapy code, WHEN_FIELD, total) of the first LIMIT, in one query."""
    order = (f"-{when_field}", "-pk") if newest_first else (when_field, "pk")
    fields = ("pk", "patient__family_name", "patient__given_name", "therapy_code", when_field, "total")
    return list(consents.annotate(total=Window(Count("pk"))).order_by(*order).values_list(*fields)[:limit])


def _found(found: list[tuple], what: str, when: str) -> WorkFound:
    """Rows reading WHAT (with the therapy's name) and WHEN (with the day), each to its consent."""
    if not found:
        return WorkFound(0, [])
    today = timezone.localdate()
    link = worklist_links("consents:detail")
    rows = [
        WorkRow(
            link(pk),
            f"{family.upper()}, {given}",
            what.format(therapy=therapy_name(code)),
            when.format(day=worklist_day(timezone.localdate(moment), today)),
        )
        for pk, family, given, code, moment, _ in found
    ]
    return WorkFound(found[0][-1], rows)


def awaiting_patient_count(user: User) -> int:
    return _awaiting_patient(user).count()


def awaiting_patient(user: User, limit: int) -> WorkFound:
    """Consents prepared longest ago still waiting for the patient's signature (one query)."""
    found = _first(_awaiting_patient(user), "created_at", newest_first=False, limit=limit)
    return _found(found, "Patient to sign: {therapy}", "prepared {day}")


def awaiting_countersign_count(user: User) -> int:
    return _awaiting_countersign(user).count()


def awaiting_countersign(user: User, limit: int) -> WorkFound:
    """Consents the patient signed longest ago, waiting for the practitioner's signature (one query)."""
    found = _first(_awaiting_countersign(user), "patient_signed_at", newest_first=False, limit=limit)
    return _found(found, "To countersign: {therapy}", "patient signed {day}")


def withdrawn_recently_count(user: User) -> int:
    return _withdrawn_recently(user).count()


def withdrawn_recently(user: User, limit: int) -> WorkFound:
    """Consents withdrawn in the last WITHDRAWN_DAYS days, the latest first (one query)."""
    found = _first(_withdrawn_recently(user), "withdrawn_at", newest_first=True, limit=limit)
    return _found(found, "Withdrew consent: {therapy}", "withdrawn {day}")
