"""Where a consultation request may go next: new, contacted, booked, closed; a closed one stays closed."""

from cellclinic.core.states import TransitionTable

NEW, CONTACTED, BOOKED, CLOSED = "new", "contacted", "booked", "closed"

ENQUIRY_STATES = TransitionTable(
    name="enquiry",
    moves={
        NEW: frozenset({CONTACTED, BOOKED, CLOSED}),
        CONTACTED: frozenset({BOOKED, CLOSED}),
        BOOKED: frozenset({CLOSED}),
        CLOSED: frozenset(),
    },
    labels={NEW: "new", CONTACTED: "contacted", BOOKED: "booked for a consultation", CLOSED: "closed"},
)
