"""Transition tables: every table in the tree, and any table hypothesis can build, answer consistently."""

import dataclasses
import importlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cellclinic
from cellclinic.core.states import TransitionRefused, TransitionTable


def _tree_tables() -> list[TransitionTable]:
    """Every TransitionTable declared in a `states.py` of an app under cellclinic/."""
    tables = []
    for path in sorted(Path(cellclinic.__file__).parent.glob("*/states.py")):
        module = importlib.import_module(f"cellclinic.{path.parent.name}.states")
        tables += [value for value in vars(module).values() if isinstance(value, TransitionTable)]
    return tables


TREE_TABLES = _tree_tables()
EVERY_PAIR = [
    pytest.param(table, current, target, id=f"{table.name}:{current}->{target}")
    for table in TREE_TABLES
    for current in table.states
    for target in table.states
]

STATE = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz '", min_size=1, max_size=30).map(lambda s: f"x{s}x")


@st.composite
def tables(draw) -> TransitionTable:
    """A table of 1 to 6 states with random moves (never to the same state) and distinct labels."""
    states = draw(st.lists(STATE, min_size=1, max_size=6, unique=True))
    labels = draw(st.lists(LABEL, min_size=len(states), max_size=len(states), unique=True))
    moves = {state: frozenset(draw(st.sets(st.sampled_from(states)))) - {state} for state in states}
    name = draw(st.sampled_from(["consent", "enquiry", "treatment plan", "order", "item"]))
    return TransitionTable(name=name, moves=moves, labels=dict(zip(states, labels, strict=True)))


ANY_TABLE = st.one_of(st.sampled_from(TREE_TABLES), tables())


def _refusal(table: TransitionTable, current: str, target: str) -> str | None:
    try:
        table.check(current, target)
    except TransitionRefused as refused:
        return str(refused)
    return None


def test_the_tree_declares_one_table_per_state_machine():
    assert sorted(table.name for table in TREE_TABLES) == [
        "QC result",
        "batch",
        "consent",
        "consultation",
        "enquiry",
        "notification email",
        "product",
        "shipment",
        "specimen",
        "treatment plan",
    ]


@given(data=st.data(), table=ANY_TABLE)
def test_check_refuses_exactly_the_moves_the_table_does_not_allow(data, table):
    current = data.draw(st.one_of(st.sampled_from(table.states), STATE), label="current")
    target = data.draw(st.one_of(st.sampled_from(table.states), STATE), label="target")
    message = _refusal(table, current, target)
    assert (message is None) == table.allows(current, target)
    if message is not None:
        assert message[0].isupper() and message.endswith(".")


@given(data=st.data(), table=ANY_TABLE)
def test_a_refusal_names_both_states_by_their_labels(data, table):
    current = data.draw(st.sampled_from(table.states), label="current")
    target = data.draw(st.sampled_from(table.states), label="target")
    message = _refusal(table, current, target)
    if message is not None:
        assert table.labels[current] in message and table.labels[target] in message
        assert table.name in message


@given(data=st.data(), table=ANY_TABLE)
def test_a_refusal_lists_where_the_record_can_go_instead(data, table):
    current = data.draw(st.sampled_from(table.states), label="current")
    target = data.draw(st.sampled_from(table.states), label="target")
    message = _refusal(table, current, target)
    if message is not None and not table.is_final(current):
        _, _, choices = message.partition("it can become: ")
        for state in table.next_states(current):
            assert table.labels[state] in choices


@given(table=ANY_TABLE)
def test_final_states_allow_nothing(table):
    for state in table.states:
        if table.is_final(state):
            assert table.next_states(state) == ()
            for target in table.states:
                assert not table.allows(state, target)
                assert _refusal(table, state, target).endswith("it cannot change any more.")


@given(table=ANY_TABLE)
def test_next_states_are_the_allowed_moves_in_the_table_order(table):
    for current in table.states:
        assert table.next_states(current) == tuple(t for t in table.states if table.allows(current, t))
        assert not table.allows(current, current)


@given(table=ANY_TABLE, unknown=STATE)
def test_an_unknown_state_is_refused_in_words(table, unknown):
    if unknown in table.states:
        return
    assert table.next_states(unknown) == () and not table.is_final(unknown)
    for known in table.states:
        for current, target in ((unknown, known), (known, unknown)):
            message = _refusal(table, current, target)
            assert message is not None and f"'{unknown}'" in message


@pytest.mark.parametrize(("table", "current", "target"), EVERY_PAIR)
def test_every_pair_of_every_table_in_the_tree(table, current, target):
    message = _refusal(table, current, target)
    assert (message is None) == (target in table.moves[current])
    if message is not None:
        assert table.labels[current] in message and table.labels[target] in message


@pytest.mark.parametrize("table", TREE_TABLES, ids=lambda table: table.name)
def test_every_state_of_a_tree_table_is_reached_from_the_first(table):
    reached, frontier = {table.states[0]}, [table.states[0]]
    while frontier:
        for target in table.next_states(frontier.pop()):
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(table.states)


def test_the_messages_read_as_sentences():
    from cellclinic.candidacy.states import ENQUIRY_STATES
    from cellclinic.consents.states import CONSENT_STATES

    assert _refusal(CONSENT_STATES, "withdrawn", "signed") == (
        "A consent that is withdrawn cannot become signed: it cannot change any more."
    )
    assert _refusal(CONSENT_STATES, "awaiting_patient", "signed") == (
        "A consent that is waiting for the patient's signature cannot become signed; it can become: "
        "waiting for the practitioner's signature or withdrawn."
    )
    assert _refusal(CONSENT_STATES, "signed", "signed") == (
        "A consent that is signed is already signed; it can become: withdrawn."
    )
    assert _refusal(ENQUIRY_STATES, "contacted", "new") == (
        "An enquiry that is contacted cannot become new; it can become: booked for a consultation or closed."
    )
    assert _refusal(ENQUIRY_STATES, "new", "lost") == (
        "An enquiry is never 'lost'; it can be new, contacted, booked for a consultation or closed."
    )
    assert _refusal(CONSENT_STATES, "awaiting_patient", "withdrawn") is None


def test_a_refusal_is_a_value_error():
    assert issubclass(TransitionRefused, ValueError)


@pytest.mark.parametrize(
    ("moves", "labels", "name", "problem"),
    [
        ({"a": {"b"}}, {"a": "A"}, "thing", "undeclared states: b"),
        ({"a": {"a"}}, {"a": "A"}, "thing", "staying in a state is not a move: a"),
        ({"a": set()}, {"a": "A", "b": "B"}, "thing", "exactly one label"),
        ({"a": set()}, {}, "thing", "exactly one label"),
        ({"a": set()}, {"a": "A"}, " ", "name of the thing"),
    ],
)
def test_a_malformed_table_is_refused_when_declared(moves, labels, name, problem):
    with pytest.raises(ValueError, match=problem):
        TransitionTable(name=name, moves=moves, labels=labels)


def test_a_table_cannot_be_changed_after_it_is_made():
    moves = {"open": {"closed"}, "closed": set()}
    labels = {"open": "open", "closed": "closed"}
    table = TransitionTable(name="case", moves=moves, labels=labels)
    moves["closed"].add("open")
    labels["open"] = "reopened"
    assert not table.allows("closed", "open") and table.label("open") == "open"
    with pytest.raises(dataclasses.FrozenInstanceError):
        table.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        table.moves["closed"] = frozenset({"open"})  # type: ignore[index]
    with pytest.raises(AttributeError):
        table.moves["open"].add("closed")  # type: ignore[attr-defined]
