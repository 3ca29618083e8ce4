"""The consultations panel on a patient's chart."""

from django import template

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.roles import Permission
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.consultations.selectors import consents_for_patient, consultations_for_patient

register = template.Library()

PANEL_LIMIT = 10


@register.inclusion_tag("consultations/_panel.html")
def consultations_panel(patient, user):
    """The patient's latest consultations and consents, and "Start consultation" for those who may.

    Two queries whatever the number of rows (the practitioner comes with each consultation); the
    caller has already checked that USER may see PATIENT.
    """
    staff = not user.is_patient
    can_read = staff and has_permission(user, Permission.PATIENT_VIEW, patient.site_id)
    therapies = get_catalogue().therapies
    consultations = list(consultations_for_patient(patient)[: PANEL_LIMIT + 1]) if can_read else []
    consents = list(consents_for_patient(patient)[: PANEL_LIMIT + 1]) if can_read else []
    return {
        "patient": patient,
        "consultations": [
            (c, therapies[c.therapy_code].name if c.therapy_code in therapies else "")
            for c in consultations[:PANEL_LIMIT]
        ],
        "more_consultations": len(consultations) > PANEL_LIMIT,
        "consents": [
            (c, therapies[c.therapy_code].name if c.therapy_code in therapies else c.therapy_code)
            for c in consents[:PANEL_LIMIT]
        ],
        "more_consents": len(consents) > PANEL_LIMIT,
        "can_start": staff and has_permission(user, Permission.CONSULTATION_RUN, patient.site_id),
    }
