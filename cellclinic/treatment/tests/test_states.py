"""The transition table names exactly the model's statuses and starts where a new row starts."""

from cellclinic.treatment.models import TreatmentPlan
from cellclinic.treatment.states import PLAN_STATES


def test_the_table_has_exactly_the_models_statuses_in_order():
    assert PLAN_STATES.states == tuple(TreatmentPlan.Status.values)


def test_a_new_row_starts_in_the_tables_first_state():
    assert TreatmentPlan._meta.get_field("status").default == PLAN_STATES.states[0]
