"""The transition table names exactly the model's statuses and starts where a new row starts."""

import pytest

from cellclinic.candidacy.models import Enquiry
from cellclinic.candidacy.states import ENQUIRY_STATES


def test_the_table_has_exactly_the_models_statuses_in_order():
    assert ENQUIRY_STATES.states == tuple(Enquiry.Status.values)


def test_a_new_row_starts_in_the_tables_first_state():
    assert Enquiry._meta.get_field("status").default == ENQUIRY_STATES.states[0]


@pytest.mark.django_db
def test_the_moves_offered_on_the_enquiry_page_are_the_tables(client, dr_ada, enquiry_a):
    client.force_login(dr_ada)
    page = client.get(f"/enquiries/{enquiry_a.pk}/")
    offered = [value for value, _ in page.context["form"].fields["status"].choices]
    assert offered == [enquiry_a.status, *ENQUIRY_STATES.next_states(enquiry_a.status)]
