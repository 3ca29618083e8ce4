"""The lab's transition tables: random walks never skip release, final states hold, every state is reached."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellclinic.core.states import TransitionRefused, TransitionTable
from cellclinic.lab import states
from cellclinic.lab.states import (
    BATCH_STATES,
    PRODUCT_STATES,
    QC_RESULT_STATES,
    SHIPMENT_STATES,
    SPECIMEN_STATES,
)

LAB_TABLES = (SPECIMEN_STATES, SHIPMENT_STATES, BATCH_STATES, QC_RESULT_STATES, PRODUCT_STATES)


@st.composite
def walks(draw, table: TransitionTable) -> list[str]:
    """A path from the table's first state by allowed moves, ending at a final state or at random."""
    path = [table.states[0]]
    for _ in range(draw(st.integers(min_value=0, max_value=30))):
        choices = table.next_states(path[-1])
        if not choices:
            break
        path.append(draw(st.sampled_from(choices)))
    return path


def _reached(table: TransitionTable, start: str, avoiding: frozenset[str] = frozenset()) -> set[str]:
    """Every state reached from START by allowed moves that never enter a state in AVOIDING."""
    reached, frontier = {start}, [start]
    while frontier:
        for target in table.next_states(frontier.pop()):
            if target not in reached and target not in avoiding:
                reached.add(target)
                frontier.append(target)
    return reached


def test_the_module_declares_exactly_the_five_lab_tables():
    declared = [value for value in vars(states).values() if isinstance(value, TransitionTable)]
    assert sorted(table.name for table in declared) == [
        "QC result",
        "batch",
        "product",
        "shipment",
        "specimen",
    ]


@pytest.mark.parametrize("table", LAB_TABLES, ids=lambda table: table.name)
def test_every_state_is_reached_from_the_first(table):
    assert _reached(table, table.states[0]) == set(table.states)


@pytest.mark.parametrize("table", LAB_TABLES, ids=lambda table: table.name)
def test_every_state_can_still_end_somewhere(table):
    for state in table.states:
        assert any(table.is_final(end) for end in _reached(table, state)), state


@pytest.mark.parametrize("table", LAB_TABLES, ids=lambda table: table.name)
def test_labels_are_distinct_and_read_in_plain_words(table):
    labels = [table.labels[state] for state in table.states]
    assert len(set(labels)) == len(labels)
    for label in labels:
        assert label == label.strip() and label[0].islower() and "_" not in label


def test_no_product_reaches_administered_without_passing_released():
    assert states.PRODUCT_ADMINISTERED not in _reached(
        PRODUCT_STATES, PRODUCT_STATES.states[0], avoiding=frozenset({states.PRODUCT_RELEASED})
    )


def test_a_product_reaches_the_patient_only_through_shipping_and_receipt_at_the_clinic():
    assert PRODUCT_STATES.states[0] == states.PRODUCT_AWAITING_RELEASE
    assert [s for s in PRODUCT_STATES.states if PRODUCT_STATES.allows(s, "administered")] == ["received"]
    assert [s for s in PRODUCT_STATES.states if PRODUCT_STATES.allows(s, "received")] == ["shipped"]
    assert [s for s in PRODUCT_STATES.states if PRODUCT_STATES.allows(s, "shipped")] == ["released"]


def test_a_rejected_product_is_final_and_never_released():
    assert PRODUCT_STATES.is_final(states.PRODUCT_REJECTED)
    assert _reached(PRODUCT_STATES, states.PRODUCT_REJECTED) == {states.PRODUCT_REJECTED}
    with pytest.raises(TransitionRefused, match="A product that is rejected cannot become released"):
        PRODUCT_STATES.check(states.PRODUCT_REJECTED, states.PRODUCT_RELEASED)


@pytest.mark.parametrize(
    "state",
    ["expired", "recalled", "disposed", "administered", "quarantined", "awaiting_release", "rejected"],
)
def test_only_a_product_received_at_the_clinic_can_be_administered(state):
    assert not PRODUCT_STATES.allows(state, states.PRODUCT_ADMINISTERED)


@pytest.mark.parametrize("state", ["released", "shipped", "received"])
def test_a_product_in_circulation_can_be_quarantined_recalled_or_expire(state):
    for target in ("quarantined", "recalled", "expired"):
        assert PRODUCT_STATES.allows(state, target)


def test_an_expired_or_recalled_product_can_only_be_disposed_of():
    assert PRODUCT_STATES.next_states("expired") == ("disposed",)
    assert PRODUCT_STATES.next_states("recalled") == ("disposed",)


def test_a_batch_is_released_only_from_awaiting_release_after_qc():
    assert [s for s in BATCH_STATES.states if BATCH_STATES.allows(s, "released")] == ["awaiting_release"]
    assert [s for s in BATCH_STATES.states if BATCH_STATES.allows(s, "awaiting_release")] == ["qc_pending"]
    assert BATCH_STATES.allows("in_process", "failed")
    assert BATCH_STATES.is_final("failed") and BATCH_STATES.is_final("rejected")


def test_a_qc_result_with_a_value_is_corrected_not_overwritten():
    assert QC_RESULT_STATES.next_states("pending") == ("passed", "failed")
    assert not QC_RESULT_STATES.allows("passed", "failed")
    assert not QC_RESULT_STATES.allows("failed", "passed")
    assert QC_RESULT_STATES.next_states("passed") == ("corrected",)
    assert QC_RESULT_STATES.next_states("failed") == ("corrected",)
    assert QC_RESULT_STATES.is_final("corrected")


def test_a_specimen_is_accepted_or_rejected_only_on_arrival():
    arriving = [s for s in SPECIMEN_STATES.states if SPECIMEN_STATES.allows(s, "received")]
    assert arriving == ["shipped", "quarantined"]
    assert [s for s in SPECIMEN_STATES.states if SPECIMEN_STATES.allows(s, "rejected")] == ["shipped"]
    assert SPECIMEN_STATES.next_states("rejected") == ("disposed",)


def test_a_shipment_is_delivered_or_lost_only_once_in_transit():
    assert SHIPMENT_STATES.next_states("in_transit") == ("delivered", "lost")
    assert SHIPMENT_STATES.next_states("packed") == ("in_transit", "cancelled")


@given(path=walks(PRODUCT_STATES))
def test_a_random_product_walk_administers_only_after_release(path):
    if states.PRODUCT_ADMINISTERED in path:
        assert states.PRODUCT_RELEASED in path[: path.index(states.PRODUCT_ADMINISTERED)]
        assert path[-1] == states.PRODUCT_ADMINISTERED


@given(path=walks(PRODUCT_STATES))
def test_a_random_product_walk_never_releases_after_rejection(path):
    if states.PRODUCT_REJECTED in path:
        after = path[path.index(states.PRODUCT_REJECTED) + 1 :]
        assert after == []


@given(path=walks(BATCH_STATES))
def test_a_random_batch_walk_is_released_only_after_qc(path):
    if states.BATCH_RELEASED in path:
        before = path[: path.index(states.BATCH_RELEASED)]
        assert states.BATCH_QC_PENDING in before and states.BATCH_AWAITING_RELEASE in before


@given(data=st.data(), table=st.sampled_from(LAB_TABLES))
def test_a_random_walk_moves_only_as_the_table_allows_and_stops_at_final_states(data, table):
    path = data.draw(walks(table))
    for current, target in zip(path, path[1:], strict=False):
        table.check(current, target)
    final = [state for state in path if table.is_final(state)]
    assert final in ([], [path[-1]])
    if final:
        for target in table.states:
            with pytest.raises(TransitionRefused, match="cannot change any more"):
                table.check(path[-1], target)
