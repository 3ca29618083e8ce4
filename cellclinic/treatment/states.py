"""A treatment plan is active until it is stopped or completed; either end is final."""

from cellclinic.core.states import TransitionTable

ACTIVE, STOPPED, COMPLETED = "active", "stopped", "completed"

PLAN_STATES = TransitionTable(
    name="treatment plan",
    moves={ACTIVE: frozenset({STOPPED, COMPLETED}), STOPPED: frozenset(), COMPLETED: frozenset()},
    labels={ACTIVE: "active", STOPPED: "stopped", COMPLETED: "completed"},
)
