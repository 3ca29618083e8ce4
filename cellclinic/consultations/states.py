"""A consultation is open until its decision is signed; a decided consultation does not change."""

from cellclinic.core.states import TransitionTable

OPEN, DECIDED = "open", "decided"

CONSULTATION_STATES = TransitionTable(
    name="consultation",
    moves={OPEN: frozenset({DECIDED}), DECIDED: frozenset()},
    labels={OPEN: "in progress", DECIDED: "decided and signed"},
)
