"""What the lab adds to the patient's chart: the cells-and-products panel and the stage in the header."""

import re
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from cellclinic.accounts.access import user_roles
from cellclinic.core import plugs
from cellclinic.lab import chart_stage, panels, states, worklist
from cellclinic.lab.models import Batch, Specimen
from cellclinic.lab.tests import rows

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _request(user):
    """A request of USER's with their roles read, as the chart has read them before its panels."""
    request = RequestFactory().get("/")
    request.user = type(user).objects.get(pk=user.pk)
    user_roles(request.user)
    return request


def _stage(user, patient):
    return chart_stage.lab_stage(_request(user), patient)


@pytest.fixture
def chain(patient_a, dr_ada, lab):
    rows.lab_profile(lab)
    return rows.chain_for(patient_a, dr_ada)


def _plan_tab(client, user, patient) -> str:
    client.force_login(user)
    response = client.get(f"/patients/{patient.pk}/section/plan/", headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


# The chart panel


def test_the_plan_tab_lists_the_patients_specimens_and_products_with_links(
    client, dr_ada, lab_li, patient_a, chain
):
    cells = rows.specimen(chain, dr_ada, status=states.SPECIMEN_IN_PROCESSING)
    made = rows.batch(lab=chain.site.lab, creator=lab_li, specimen=cells)
    dose = rows.product(made, status=states.PRODUCT_RECEIVED)
    old = rows.product(made, status=states.PRODUCT_RELEASED, expires_in=timedelta(hours=-1))
    body = _plan_tab(client, dr_ada, patient_a)
    panel = body[body.index('id="h-lab-cells"') :]
    assert f'<a href="/lab/specimens/{cells.pk}/">Punch biopsy</a>' in panel
    assert "Being processed" in panel and "(in process)" in panel
    assert f'<time datetime="{made.ready_from:%Y-%m-%d}">' in panel
    assert f'<a href="/lab/products/{dose.din}/" class="mono">{dose.din}</a>' in panel
    assert '<span class="badge badge-ok">Received at the clinic</span>' in panel
    old_row = panel[panel.index(old.din) :]
    assert 'badge badge-danger">Expired' in old_row[: old_row.index("</tr>")]
    # The treatment plan comes first in the tab.
    assert body.index('id="h-treatment"') < body.index('id="h-lab-cells"')


def test_without_lab_records_the_panel_is_not_shown(client, dr_ada, patient_a):
    from cellclinic.treatment.tests.helpers import pathway_to

    pathway_to("planned", patient_a, dr_ada)
    assert 'id="h-lab-cells"' not in _plan_tab(client, dr_ada, patient_a)


def test_another_patients_records_are_not_in_the_panel(client, dr_ada, dr_cy, patient_a, patient_b, chain):
    rows.specimen(chain, dr_ada)
    theirs = rows.specimen(rows.chain_for(patient_b, dr_cy), dr_cy)
    body = _plan_tab(client, dr_ada, patient_a)
    assert f"/lab/specimens/{theirs.pk}/" not in body


@pytest.mark.parametrize("persona", ["dr_cy", "lab_li", "pat"])
def test_no_one_outside_the_patients_clinic_gets_the_panel(request, patient_a, dr_ada, chain, persona):
    rows.specimen(chain, dr_ada)
    assert panels.chart_panel(_request(request.getfixturevalue(persona)), patient_a) is None


# The plan tab: the specimens (with their newest batch) and the products, however many.
PANEL_QUERIES = 2


def test_the_panel_reads_twice_for_2_or_20_records(
    dr_ada, lab_li, patient_a, chain, django_assert_num_queries
):
    for each in (2, 18):
        for _ in range(each):
            cells = rows.specimen(chain, dr_ada, status=states.SPECIMEN_IN_PROCESSING)
            rows.product(rows.batch(lab=chain.site.lab, creator=lab_li, specimen=cells))
        request = _request(dr_ada)
        with django_assert_num_queries(PANEL_QUERIES):
            context = panels.chart_panel(request, patient_a)
        assert len(context["specimens"]) == len(context["products"]) >= each


# The stage in the chart's header


def test_nothing_at_the_lab_reports_no_stage(dr_ada, patient_a):
    assert _stage(dr_ada, patient_a) is None


@pytest.mark.parametrize(
    ("status", "label", "next_step"),
    [
        (states.SPECIMEN_COLLECTED, "Cells collected at the clinic", "Pack and ship them to the lab"),
        (states.SPECIMEN_SHIPPED, "Cells on their way to the lab", "The lab receives them"),
        (states.SPECIMEN_RECEIVED, "Cells received at the lab", "The lab books processing"),
        (states.SPECIMEN_REJECTED, "Cells rejected on arrival at the lab", chart_stage.REHARVEST),
        (states.SPECIMEN_LOST, "Cells lost in transit", chart_stage.REHARVEST),
    ],
)
def test_a_specimen_on_its_way_reports_where_it_is(dr_ada, patient_a, chain, status, label, next_step):
    cells = rows.specimen(chain, dr_ada, status=status)
    stage = _stage(dr_ada, patient_a)
    assert (stage.rank, stage.label, stage.next_step) == (chart_stage.RANK_SPECIMEN, label, next_step)
    assert stage.url == f"/lab/specimens/{cells.pk}/"


def test_a_batch_in_process_reports_its_ready_window(dr_ada, lab_li, patient_a, chain):
    cells = rows.specimen(chain, dr_ada, status=states.SPECIMEN_IN_PROCESSING)
    made = rows.batch(lab=chain.site.lab, creator=lab_li, specimen=cells)
    stage = _stage(dr_ada, patient_a)
    window = worklist.ready_window(made.ready_from, made.ready_to)
    assert (stage.label, stage.next_step, stage.next_date) == (
        f"Cells at the lab, ready {window}",
        "Product ready",
        made.ready_from,
    )
    assert stage.url == f"/lab/batches/{made.pk}/" and stage.rank == chart_stage.RANK_BATCH


def test_a_failed_culture_asks_for_a_new_harvest_until_one_is_taken(dr_ada, lab_li, patient_a, chain):
    cells = rows.specimen(chain, dr_ada, status=states.SPECIMEN_IN_PROCESSING)
    rows.batch(lab=chain.site.lab, creator=lab_li, specimen=cells, status=states.BATCH_FAILED)
    stage = _stage(dr_ada, patient_a)
    assert (stage.label, stage.next_step) == ("Culture failed", chart_stage.REHARVEST)
    again = rows.specimen(chain, dr_ada)
    Specimen.objects.filter(pk=again.pk).update(replaces=cells, collected_at=timezone.now())
    stage = _stage(dr_ada, patient_a)
    assert stage.label == "Cells collected at the clinic" and stage.url == f"/lab/specimens/{again.pk}/"


@pytest.mark.parametrize(
    ("status", "label", "rank"),
    [
        (states.PRODUCT_RELEASED, "Product released by the lab", chart_stage.RANK_PRODUCT),
        (states.PRODUCT_SHIPPED, "Product on its way to the clinic", chart_stage.RANK_PRODUCT),
        (states.PRODUCT_RECEIVED, "Product at the clinic", chart_stage.RANK_AT_CLINIC),
    ],
)
def test_a_product_reports_where_it_is(dr_ada, lab_li, lab, patient_a, status, label, rank):
    rows.lab_profile(lab)
    dose = rows.own_product(patient_a, dr_ada, lab_li, status=status)
    stage = _stage(dr_ada, patient_a)
    assert (stage.label, stage.rank, stage.url) == (label, rank, f"/lab/products/{dose.din}/")
    if status == states.PRODUCT_RECEIVED:
        assert stage.next_date == timezone.localdate(dose.expires_at)


def test_the_product_nearest_the_patient_speaks_for_the_chain(dr_ada, lab_li, patient_a, chain):
    cells = rows.specimen(chain, dr_ada, status=states.SPECIMEN_USED)
    made = rows.batch(lab=chain.site.lab, creator=lab_li, specimen=cells, status=states.BATCH_RELEASED)
    rows.product(made, status=states.PRODUCT_RELEASED)
    received = rows.product(made, status=states.PRODUCT_RECEIVED)
    assert _stage(dr_ada, patient_a).url == f"/lab/products/{received.din}/"


def test_once_every_dose_is_given_the_plan_speaks_again(client, dr_ada, lab_li, patient_a, chain):
    cells = rows.specimen(chain, dr_ada, status=states.SPECIMEN_USED)
    made = rows.batch(lab=chain.site.lab, creator=lab_li, specimen=cells, status=states.BATCH_RELEASED)
    rows.administered(rows.product(made, status=states.PRODUCT_RECEIVED), patient_a, dr_ada)
    assert _stage(dr_ada, patient_a) is None
    client.force_login(dr_ada)
    assert client.get(f"/patients/{patient_a.pk}/").context["stage"].label == "Treatment plan active"


def test_the_chart_header_shows_the_lab_stage_over_an_active_plan(client, dr_ada, lab_li, patient_a, chain):
    cells = rows.specimen(chain, dr_ada, status=states.SPECIMEN_IN_PROCESSING)
    made = rows.batch(lab=chain.site.lab, creator=lab_li, specimen=cells)
    client.force_login(dr_ada)
    body = client.get(f"/patients/{patient_a.pk}/").content.decode()
    window = worklist.ready_window(made.ready_from, made.ready_to)
    assert f'<a href="/lab/batches/{made.pk}/">Cells at the lab, ready {window}</a>' in body
    assert f'Next: Product ready, <time datetime="{made.ready_from:%Y-%m-%d}">' in body


def test_a_withdrawn_consent_outranks_the_lab(dr_ada, patient_a, chain):
    from cellclinic.consents.chart_stage import RANK_WITHDRAWN
    from cellclinic.treatment.chart_stage import RANK_ACTIVE, RANK_ENDED

    ranks = (
        chart_stage.RANK_SPECIMEN,
        chart_stage.RANK_BATCH,
        chart_stage.RANK_PRODUCT,
        chart_stage.RANK_AT_CLINIC,
    )
    assert all(RANK_ACTIVE < rank < RANK_ENDED < RANK_WITHDRAWN for rank in ranks)


@pytest.mark.parametrize("persona", ["dr_cy", "lab_li", "pat"])
def test_the_stage_is_reported_only_to_the_patients_clinic(request, dr_ada, patient_a, chain, persona):
    rows.specimen(chain, dr_ada)
    assert _stage(request.getfixturevalue(persona), patient_a) is None


def test_the_stage_is_one_query_however_much_there_is(
    dr_ada, lab_li, patient_a, chain, django_assert_num_queries
):
    for each in (2, 18):
        for _ in range(each):
            cells = rows.specimen(chain, dr_ada, status=states.SPECIMEN_IN_PROCESSING)
            rows.product(rows.batch(lab=chain.site.lab, creator=lab_li, specimen=cells))
        request = _request(dr_ada)
        with django_assert_num_queries(1):
            assert chart_stage.lab_stage(request, patient_a) is not None
    assert Batch.objects.count() == 20


def test_the_lab_is_registered_in_the_charts_plan_section_and_its_header():
    assert [panel.key for panel in plugs.panels_in("chart", "plan")] == ["treatment", "lab_next", "lab"]
    assert "lab" in plugs._STAGE_REPORTERS


def test_the_patients_own_pages_show_no_din_id_or_lab_words(client, pat, dr_ada, lab_li, patient_a, chain):
    cells = rows.specimen(chain, dr_ada, status=states.SPECIMEN_IN_PROCESSING)
    dose = rows.product(rows.batch(lab=chain.site.lab, creator=lab_li, specimen=cells))
    client.force_login(pat)
    response = client.get("/patients/portal/")
    assert response.status_code == 200
    body = response.content.decode()
    for word in (dose.din, chain.coi, "chain of identity", "batch", "specimen"):
        assert word.lower() not in body.lower(), word
    assert not re.search(r"\bDIN\b", body)
