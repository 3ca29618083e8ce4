"""What consent adds to other apps' pages: the chart, the consultation, the portal and its next step.

Each function answers a context for its template, or None when the reader has nothing to see there.
They are registered in ConsentsConfig.ready().
"""

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.roles import Permission
from cellclinic.catalogue.registry import therapy_name, therapy_plain_name
from cellclinic.consents.models import Consent
from cellclinic.consents.selectors import consents_for_patient, consents_of
from cellclinic.consultations.models import Consultation
from cellclinic.core import plugs

PANEL_LIMIT = 10


def _named(consents, name=therapy_name) -> list[tuple[Consent, str]]:
    return [(consent, name(consent.therapy_code)) for consent in consents]


def chart_panel(request, patient) -> dict | None:
    """The patient's latest consents with their state and PDF (one query)."""
    user = request.user
    if user.is_patient or not has_permission(user, Permission.PATIENT_VIEW, patient.site_id):
        return None
    consents = list(consents_for_patient(patient)[: PANEL_LIMIT + 1])
    return {"consents": _named(consents[:PANEL_LIMIT]), "more_consents": len(consents) > PANEL_LIMIT}


def consultation_panel(request, consultation) -> dict | None:
    """After a decision to proceed: its consents, and "Prepare consent" while none is live."""
    if consultation.decision != Consultation.Decision.PROCEED:
        return None
    consents = consents_of(consultation)
    live = next((c for c in consents if c.status != Consent.Status.WITHDRAWN), None)
    return {
        "consultation": consultation,
        "consents": consents,
        "live_consent": live,
        "can_prepare": has_permission(request.user, Permission.CONSENT_PREPARE, consultation.site_id),
    }


def _portal_consents(request, patient) -> list[tuple[Consent, str]]:
    """The patient's consents, read once per request for the portal's panels."""
    return plugs.request_cached(
        request,
        "portal_consents",
        lambda: _named(consents_for_patient(patient).order_by("-created_at", "-id"), therapy_plain_name),
    )


def portal_panel(request, patient) -> dict:
    """The patient's consent forms: read, sign, download or withdraw."""
    return {"consents": _portal_consents(request, patient)}


def portal_next_to_sign(request, patient) -> dict | None:
    """ "Read and sign" for each consent waiting for the patient."""
    consents = _portal_consents(request, patient)
    waiting = [e for e in consents if e[0].status == Consent.Status.AWAITING_PATIENT]
    return {"consents": waiting} if waiting else None


def portal_next_countersign(request, patient) -> dict | None:
    """Thanks, and what comes next, when the patient has signed and the practitioner has not yet."""
    entry = next(
        (
            e
            for e in _portal_consents(request, patient)
            if e[0].status == Consent.Status.AWAITING_PRACTITIONER
        ),
        None,
    )
    return {"consent": entry[0], "therapy_name": entry[1]} if entry else None
