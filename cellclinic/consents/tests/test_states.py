"""The transition table names exactly the model's statuses and starts where a new row starts."""

from cellclinic.consents.models import Consent
from cellclinic.consents.states import CONSENT_STATES


def test_the_table_has_exactly_the_models_statuses_in_order():
    assert CONSENT_STATES.states == tuple(Consent.Status.values)


def test_a_new_row_starts_in_the_tables_first_state():
    assert Consent._meta.get_field("status").default == CONSENT_STATES.states[0]
