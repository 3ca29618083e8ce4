"""Consent is signed by the patient, then countersigned; it may be withdrawn at any point, for good."""

from cellclinic.core.states import TransitionTable

AWAITING_PATIENT = "awaiting_patient"
AWAITING_PRACTITIONER = "awaiting_practitioner"
SIGNED = "signed"
WITHDRAWN = "withdrawn"

CONSENT_STATES = TransitionTable(
    name="consent",
    moves={
        AWAITING_PATIENT: frozenset({AWAITING_PRACTITIONER, WITHDRAWN}),
        AWAITING_PRACTITIONER: frozenset({SIGNED, WITHDRAWN}),
        SIGNED: frozenset({WITHDRAWN}),
        WITHDRAWN: frozenset(),
    },
    labels={
        AWAITING_PATIENT: "waiting for the patient's signature",
        AWAITING_PRACTITIONER: "waiting for the practitioner's signature",
        SIGNED: "signed",
        WITHDRAWN: "withdrawn",
    },
)
