"""What consultations add to other apps' pages: the chart's list, the portal's summary, the enquiry's button.

Each function answers a context for its template, or None when the reader has nothing to see there.
They are registered in ConsultationsConfig.ready().
"""

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.roles import Permission
from cellclinic.catalogue.registry import therapy_name, therapy_plain_name
from cellclinic.consultations.models import Consultation
from cellclinic.consultations.selectors import consultations_for_patient

PANEL_LIMIT = 10


def chart_panel(request, patient) -> dict | None:
    """The patient's latest consultations, and "Start consultation" for those who may (one query)."""
    user = request.user
    if user.is_patient or not has_permission(user, Permission.PATIENT_VIEW, patient.site_id):
        return None
    consultations = list(consultations_for_patient(patient)[: PANEL_LIMIT + 1])
    return {
        "patient": patient,
        "consultations": [(c, therapy_name(c.therapy_code, "")) for c in consultations[:PANEL_LIMIT]],
        "more_consultations": len(consultations) > PANEL_LIMIT,
        "can_start": has_permission(user, Permission.CONSULTATION_RUN, patient.site_id),
    }


def portal_panel(request, patient) -> dict:
    """The patient's decided consultations, in their words (the caller made sure it is their record)."""
    consultations = (
        Consultation.objects.filter(patient=patient, status=Consultation.Status.DECIDED)
        .select_related("practitioner")
        .order_by("-decided_at", "-id")
    )
    named = [(c, therapy_plain_name(c.therapy_code) if c.therapy_code else "") for c in consultations]
    return {"consultations": named}


def enquiry_actions(request, enquiry) -> dict | None:
    """ "Start consultation" on an enquiry whose enquirer is registered, for a practitioner at its clinic."""
    if enquiry.patient_id is None:
        return None
    if not has_permission(request.user, Permission.CONSULTATION_RUN, enquiry.site_id):
        return None
    return {"enquiry": enquiry}
