"""The clinic's lab actions through their pages: harvest, label, pack, hand over, receive products back,
dispose of a specimen; and the chart's panel that leads to them."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone
from django.utils.html import escape
from django.utils.text import capfirst

from cellclinic.audit.models import AccessEvent
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.consents.models import Consent
from cellclinic.lab import available, services, states
from cellclinic.lab.models import CustodyEvent, Shipment, Specimen
from cellclinic.lab.tests.actions_pages import NOT_NOW, field_error, href_of, offered, page, submit
from cellclinic.lab.tests.builders import AT_C, COURIER, lab_advance, lab_counts, lab_pathway_to, lab_ready
from cellclinic.treatment.tests.helpers import CULTURED, POINT_OF_CARE, pathway_to

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
PACK = {"courier": COURIER, "tracking": "CC-1234", "temperature_min_c": "2", "temperature_max_c": "8"}


def when_fields(moment) -> dict[str, str]:
    local = timezone.localtime(moment)
    return {"collected_on": f"{local:%Y-%m-%d}", "collected_time": f"{local:%H:%M}"}


def harvest_data(**changes) -> dict[str, str]:
    data = {
        "kind": Specimen.Kind.PUNCH_BIOPSY,
        "body_site": "Behind the left ear",
        "size": "3 punches of 3 mm",
        **when_fields(timezone.now() - timedelta(minutes=5)),
    }
    return {**data, **changes}


def signed_yesterday(pathway):
    """PATHWAY with its consent signed a day ago: a harvest is timed to the minute, never before it."""
    Consent.objects.filter(pk=pathway.consent.pk).update(
        patient_signed_at=F("patient_signed_at") - timedelta(days=1),
        practitioner_signed_at=F("practitioner_signed_at") - timedelta(days=1),
    )
    return pathway


@pytest.fixture
def planned(patient_a, dr_ada, lab):
    lab_ready(lab)
    return signed_yesterday(pathway_to("planned", patient_a, dr_ada, therapy=CULTURED))


# The harvest


def test_the_chart_leads_to_the_harvest_which_shows_the_slot_and_the_aftercare(client, dr_ada, planned):
    plan = planned.plan
    chart = page(client, dr_ada, f"/patients/{planned.patient.pk}/section/plan/")
    assert f'href="/lab/harvest/{plan.pk}/"' in chart and "Record the harvest" in chart
    body = page(client, dr_ada, f"/lab/harvest/{plan.pk}/")
    therapy = get_catalogue().therapy(plan.therapy_code, plan.therapy_version)
    start, ready_from, ready_to = services.earliest_processing(
        lab=planned.patient.site.lab, therapy=therapy, wanted=timezone.localdate()
    )
    assert f'The lab has a slot free from <time datetime="{start:%Y-%m-%d}">' in body
    assert f'<time datetime="{ready_to:%Y-%m-%d}">' in body
    assert "Aftercare to hand to the patient" in body
    for line in services.harvest_aftercare(therapy, planned.consultation.indication):
        assert line.replace("'", "&#x27;") in body
    # The form starts from what the protocol takes and the time now.
    assert 'value="Behind the ear"' in body and 'value="Three 3-mm punch biopsies"' in body
    assert '<option value="punch_biopsy" selected>' in body
    assert "Grace HOPPER" in body


def test_a_harvest_recorded_through_the_page_makes_the_specimen_and_says_what_is_next(
    client, dr_ada, planned
):
    collected = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=30)
    path = f"/lab/harvest/{planned.plan.pk}/"
    response = submit(client, dr_ada, path, harvest_data(**when_fields(collected)))
    specimen = Specimen.objects.get()
    assert response["Location"] == f"/lab/specimens/{specimen.pk}/"
    assert (specimen.kind, specimen.body_site, specimen.size) == (
        "punch_biopsy",
        "Behind the left ear",
        "3 punches of 3 mm",
    )
    assert specimen.collected_at == collected and specimen.collected_by == dr_ada
    assert specimen.chain.plan == planned.plan and specimen.chain.consent == planned.consent
    body = client.get(response["Location"]).content.decode()
    assert f"The harvest is recorded as specimen {specimen.coi}." in body
    assert offered(body) == ["Pack for the lab", "Dispose of the specimen", "Print the specimen label (PDF)"]
    # The chart no longer asks for the harvest, and the page says why a second one is not recorded.
    chart = page(client, dr_ada, f"/patients/{planned.patient.pk}/section/plan/")
    assert "/lab/harvest/" not in chart
    again = page(client, dr_ada, path)
    assert NOT_NOW in again and escape(capfirst(services.ALREADY_HARVESTED)) in again


def test_a_harvest_in_the_future_is_refused_beside_its_date_and_nothing_is_made(client, dr_ada, planned):
    before = lab_counts()
    later = timezone.now() + timedelta(hours=3)
    response = submit(
        client, dr_ada, f"/lab/harvest/{planned.plan.pk}/", harvest_data(**when_fields(later)), status=422
    )
    body = response.content.decode()
    assert field_error(body, "collected_on") == services.IN_THE_FUTURE
    assert "Nothing was changed." in body
    assert lab_counts() == before


def test_a_harvest_without_a_size_is_refused_beside_it(client, dr_ada, planned):
    before = lab_counts()
    body = submit(client, dr_ada, f"/lab/harvest/{planned.plan.pk}/", harvest_data(size=" "), status=422)
    assert field_error(body.content.decode(), "size")
    assert lab_counts() == before


def test_a_bedside_therapy_has_nothing_to_send_to_the_lab(client, dr_ada, patient_a, lab):
    lab_ready(lab)
    made = pathway_to("planned", patient_a, dr_ada, therapy=POINT_OF_CARE)
    body = page(client, dr_ada, f"/lab/harvest/{made.plan.pk}/")
    assert "This cannot be done now." in body and escape(services.AT_THE_BEDSIDE.capitalize()) in body
    assert '<form method="post"' not in body.split('<main id="main"', 1)[1]
    chart = page(client, dr_ada, f"/patients/{patient_a.pk}/section/plan/")
    assert "/lab/harvest/" not in chart
    before = lab_counts()
    response = submit(client, dr_ada, f"/lab/harvest/{made.plan.pk}/", harvest_data(), status=422)
    assert escape(services.AT_THE_BEDSIDE) in response.content.decode()
    assert lab_counts() == before


def test_a_clinic_admin_may_read_the_plan_but_not_record_a_harvest(client, admin_al, planned):
    body = page(client, admin_al, f"/lab/harvest/{planned.plan.pk}/", status=403)
    assert services.CANNOT_COLLECT in body
    before = lab_counts()
    response = submit(client, admin_al, f"/lab/harvest/{planned.plan.pk}/", harvest_data(), status=403)
    assert services.CANNOT_COLLECT in response.content.decode()
    assert lab_counts() == before
    assert "/lab/harvest/" not in page(client, admin_al, f"/patients/{planned.patient.pk}/section/plan/")


@pytest.mark.parametrize("persona", ["lab_li", "qa_quinn", "dr_cy", "pat"])
def test_anyone_else_finds_no_harvest_page(client, request, planned, persona):
    user = request.getfixturevalue(persona)
    page(client, user, f"/lab/harvest/{planned.plan.pk}/", status=404)
    before = lab_counts()
    submit(client, user, f"/lab/harvest/{planned.plan.pk}/", harvest_data(), status=404)
    assert lab_counts() == before


def test_after_a_failed_culture_the_chart_and_the_specimen_lead_to_a_reharvest(
    client, dr_ada, patient_a, lab_li, qa_quinn
):
    made = lab_pathway_to("failed", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    signed_yesterday(made.pathway)
    failed = made.specimen
    chart = page(client, dr_ada, f"/patients/{patient_a.pk}/section/plan/")
    again = f"/lab/harvest/{made.plan.pk}/?replaces={failed.pk}"
    assert f'href="{again}"' in chart and "its culture failed" in chart
    assert "Record a re-harvest" in offered(page(client, dr_ada, f"/lab/specimens/{failed.pk}/"))
    assert "Record a re-harvest" not in offered(page(client, lab_li, f"/lab/specimens/{failed.pk}/"))
    body = page(client, dr_ada, again)
    assert "Record a re-harvest" in body and f"Specimen {failed.coi}" in body
    submit(client, dr_ada, again, {**harvest_data(), "replaces": str(failed.pk)})
    new = Specimen.objects.exclude(pk=failed.pk).get()
    assert new.replaces == failed and new.chain == failed.chain
    assert f'href="{again}"' not in page(client, dr_ada, f"/patients/{patient_a.pk}/section/plan/")


def test_a_reharvest_of_another_consents_specimen_is_not_found(client, dr_ada, patient_a, lab_li, qa_quinn):
    made = lab_pathway_to("failed", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    other = pathway_to("planned", patient_a, dr_ada, therapy=CULTURED)
    page(client, dr_ada, f"/lab/harvest/{other.plan.pk}/?replaces={made.specimen.pk}", status=404)


# Pack and hand over


def test_a_collected_specimen_is_packed_and_handed_to_the_courier(
    client, dr_ada, patient_a, lab_li, qa_quinn
):
    made = lab_pathway_to("collected", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    specimen = made.specimen
    body = page(client, dr_ada, f"/lab/specimens/{specimen.pk}/pack/")
    # The range starts from the protocol's storage temperatures.
    assert 'name="temperature_min_c" value="2.0"' in body and 'name="temperature_max_c" value="8.0"' in body
    submit(client, dr_ada, f"/lab/specimens/{specimen.pk}/pack/", PACK)
    shipment = Shipment.objects.get()
    specimen.refresh_from_db()
    assert (specimen.status, specimen.shipment, shipment.courier, shipment.tracking) == (
        states.SPECIMEN_PACKED,
        shipment,
        COURIER,
        "CC-1234",
    )
    detail = page(client, dr_ada, f"/lab/specimens/{specimen.pk}/")
    assert offered(detail)[0] == "Hand to the courier"
    dispatch = href_of(detail, "Hand to the courier")
    assert dispatch == f"/lab/shipments/{shipment.pk}/dispatch/"
    assert "Temperature range" in page(client, dr_ada, dispatch) and "2 °C to 8 °C" in page(
        client, dr_ada, dispatch
    )
    response = submit(client, dr_ada, dispatch, {"temperature_c": "4.5"})
    assert response["Location"] == f"/lab/specimens/{specimen.pk}/"
    specimen.refresh_from_db()
    assert specimen.status == states.SPECIMEN_SHIPPED
    shipped = specimen.custody.get(kind=CustodyEvent.Kind.SHIPPED)
    assert (shipped.temperature_c, shipped.by) == (Decimal("4.5"), dr_ada)
    timeline = page(client, dr_ada, f"/lab/specimens/{specimen.pk}/")
    assert re.findall(r'custody-event custody-(\w+)"', timeline) == ["collected", "packed", "shipped"]


def test_a_range_upside_down_is_refused_beside_its_top_and_nothing_is_packed(
    client, dr_ada, patient_a, lab_li, qa_quinn
):
    made = lab_pathway_to("collected", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    before = lab_counts()
    response = submit(
        client,
        dr_ada,
        f"/lab/specimens/{made.specimen.pk}/pack/",
        {**PACK, "temperature_min_c": "8", "temperature_max_c": "2"},
        status=422,
    )
    assert field_error(response.content.decode(), "temperature_max_c") == services.RANGE_REVERSED
    assert lab_counts() == before


def test_a_box_too_warm_for_its_range_is_not_handed_over(client, dr_ada, patient_a, lab_li, qa_quinn):
    made = lab_pathway_to("collected", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    shipment = services.shipment_pack(
        actor=dr_ada, specimens=[made.specimen], courier=COURIER, temperature_min_c=2, temperature_max_c=8
    )
    before = lab_counts()
    response = submit(
        client, dr_ada, f"/lab/shipments/{shipment.pk}/dispatch/", {"temperature_c": "12"}, status=422
    )
    error = field_error(response.content.decode(), "temperature_c")
    assert error == escape(services.OUTSIDE_RANGE.format(value="12.0", low="2.0", high="8.0"))
    assert lab_counts() == before


def test_lab_staff_cannot_pack_or_hand_over_a_clinics_specimen(client, dr_ada, patient_a, lab_li, qa_quinn):
    made = lab_pathway_to("collected", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    assert offered(page(client, lab_li, f"/lab/specimens/{made.specimen.pk}/")) == []
    assert services.CANNOT_COLLECT in page(client, lab_li, f"/lab/specimens/{made.specimen.pk}/pack/", 403)
    before = lab_counts()
    submit(client, lab_li, f"/lab/specimens/{made.specimen.pk}/pack/", PACK, status=403)
    assert lab_counts() == before


# Dispose of a specimen still at the clinic


def test_a_specimen_still_at_the_clinic_is_disposed_of_with_the_reason(
    client, nurse_bo, dr_ada, patient_a, lab_li, qa_quinn
):
    made = lab_pathway_to("collected", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    path = f"/lab/specimens/{made.specimen.pk}/dispose/"
    before = lab_counts()
    response = submit(client, nurse_bo, path, {"reason": ""}, status=422)
    assert field_error(response.content.decode(), "reason")
    assert lab_counts() == before
    submit(client, nurse_bo, path, {"reason": "Container cracked before packing"})
    made.specimen.refresh_from_db()
    assert made.specimen.status == states.SPECIMEN_DISPOSED
    event = made.specimen.custody.get(kind=CustodyEvent.Kind.DISPOSED)
    assert (event.note, event.by, event.at_site) == (
        "Container cracked before packing",
        nurse_bo,
        made.clinic,
    )
    # Disposed of: nothing more is offered, and the clinic no longer holds it to dispose of.
    assert offered(page(client, nurse_bo, f"/lab/specimens/{made.specimen.pk}/")) == [
        "Print the specimen label (PDF)"
    ]
    assert escape(services.CANNOT_DISPOSE_SPECIMEN) in page(client, nurse_bo, path, status=403)


# Receive products back at the clinic


@pytest.fixture
def on_its_way(patient_a, dr_ada, lab_li, qa_quinn):
    made = lab_pathway_to("issued", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    services.shipment_dispatch(actor=lab_li, shipment=made.product_shipment, temperature_c=AT_C)
    return made.refresh()


def test_a_nurse_receives_the_products_back_at_the_clinic(client, nurse_bo, on_its_way):
    product = on_its_way.products[0]
    detail = page(client, nurse_bo, f"/lab/products/{product.din}/")
    receive = f"/lab/shipments/{on_its_way.product_shipment.pk}/receive/"
    assert href_of(detail, "Receive at the clinic") == receive
    form = page(client, nurse_bo, receive)
    assert "Held in quarantine for the lab to decide" in form
    response = submit(
        client,
        nurse_bo,
        receive,
        {"accepted": "accept", "temperature_c": "5", "condition": "Sealed, cold packs intact"},
    )
    assert response["Location"] == f"/lab/products/{product.din}/"
    for each in on_its_way.refresh().products:
        assert each.status == states.PRODUCT_RECEIVED
    received = product.custody.get(kind=CustodyEvent.Kind.RECEIVED)
    assert (received.by, received.temperature_c, received.condition) == (
        nurse_bo,
        Decimal("5.0"),
        "Sealed, cold packs intact",
    )
    timeline = page(client, nurse_bo, f"/lab/products/{product.din}/")
    assert re.findall(r'custody-event custody-(\w+)"', timeline) == [
        "released",
        "issued",
        "shipped",
        "received",
    ]


def test_products_too_warm_cannot_be_accepted_and_nothing_changes(client, nurse_bo, on_its_way):
    receive = f"/lab/shipments/{on_its_way.product_shipment.pk}/receive/"
    before = lab_counts()
    response = submit(
        client,
        nurse_bo,
        receive,
        {"accepted": "accept", "temperature_c": "15", "condition": "Warm"},
        status=422,
    )
    body = response.content.decode()
    assert "outside the shipment&#x27;s range" in body and "reject them, with the reason" in body
    assert lab_counts() == before
    assert {p.status for p in on_its_way.refresh().products} == {states.PRODUCT_SHIPPED}


def test_products_held_at_the_clinic_need_the_reason(client, nurse_bo, on_its_way):
    receive = f"/lab/shipments/{on_its_way.product_shipment.pk}/receive/"
    data = {"accepted": "reject", "temperature_c": "15", "condition": "Warm"}
    response = submit(client, nurse_bo, receive, data, status=422)
    assert services.REASON_FOR_REJECTION in response.content.decode()
    submit(client, nurse_bo, receive, {**data, "reason": "Arrived at 15 °C"})
    assert {p.status for p in on_its_way.refresh().products} == {states.PRODUCT_QUARANTINED}


def test_the_lab_cannot_receive_at_the_clinic(client, lab_li, qa_quinn, on_its_way):
    receive = f"/lab/shipments/{on_its_way.product_shipment.pk}/receive/"
    for user in (lab_li, qa_quinn):
        assert services.CANNOT_RECEIVE_PRODUCTS in page(client, user, receive, status=403)
        assert "Receive at the clinic" not in offered(
            page(client, user, f"/lab/products/{on_its_way.products[0].din}/")
        )


# The chart's panel


def test_the_panel_offers_the_bedside_check_once_a_product_is_at_the_clinic(
    client, dr_ada, nurse_bo, admin_al, patient_a, lab_li, qa_quinn
):
    made = lab_pathway_to("issued", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    for user in (dr_ada, nurse_bo):
        assert 'href="/lab/bedside/"' not in page(client, user, f"/patients/{patient_a.pk}/section/plan/")
    lab_advance(made, "at_clinic")
    for user in (dr_ada, nurse_bo):
        assert 'href="/lab/bedside/"' in page(client, user, f"/patients/{patient_a.pk}/section/plan/")
    assert 'id="h-lab-next"' not in page(client, admin_al, f"/patients/{patient_a.pk}/section/plan/")


def test_the_panel_reads_once_and_twice_with_a_specimen_to_replace(
    rf, dr_ada, patient_a, lab_li, qa_quinn, django_assert_num_queries
):
    from cellclinic.accounts.access import user_roles

    made = lab_pathway_to("failed", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    request = rf.get("/")
    request.user = type(dr_ada).objects.get(pk=dr_ada.pk)
    user_roles(request.user)
    patient = type(patient_a).objects.select_related("site").get(pk=patient_a.pk)
    # The plans with whether each was harvested and has a product to give; the specimens to replace.
    with django_assert_num_queries(2):
        context = available.chart_next(request, patient)
    assert [specimen for _, specimen, _ in context["reharvests"]] == [made.specimen]
    assert context["harvests"] == [] and context["bedside"] is False
    pathway_to("planned", patient_a, dr_ada, therapy=POINT_OF_CARE)
    with django_assert_num_queries(2):
        assert len(available.chart_next(request, patient)["reharvests"]) == 1


def test_the_harvest_page_reads_a_pinned_number_of_queries(
    client, dr_ada, planned, django_assert_num_queries
):
    path = f"/lab/harvest/{planned.plan.pk}/"
    client.force_login(dr_ada)
    client.get(path)
    # The session, the user and the roles (3); the plan with its patient, its steps, its consent (3);
    # whether the consent has a specimen already; the clinic's lab, the lab's profile and its open
    # batches, for the earliest slot (3); the consultation, for the indication's aftercare; the read
    # logged; the navigation's counts of new requests and unread notifications (2).
    with django_assert_num_queries(3 + 3 + 1 + 3 + 1 + 1 + 2):
        assert client.get(path).status_code == 200
    assert AccessEvent.objects.filter(action="treatment_plan.view", patient_id=planned.patient.pk).exists()
