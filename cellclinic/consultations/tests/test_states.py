"""The transition table names exactly the model's statuses and starts where a new row starts."""

from cellclinic.consultations.models import Consultation
from cellclinic.consultations.states import CONSULTATION_STATES


def test_the_table_has_exactly_the_models_statuses_in_order():
    assert CONSULTATION_STATES.states == tuple(Consultation.Status.values)


def test_a_new_row_starts_in_the_tables_first_state():
    assert Consultation._meta.get_field("status").default == CONSULTATION_STATES.states[0]
