"""Shipments: packed, dispatched and received, either way, each hand-off a custody event."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cellclinic.audit.models import AuditEvent
from cellclinic.consents.services import consent_withdraw
from cellclinic.core.errors import Forbidden, InvalidInput, NotFound
from cellclinic.lab import states
from cellclinic.lab.models import CustodyEvent, Product, Shipment
from cellclinic.lab.services import (
    CANNOT_COLLECT,
    CANNOT_PROCESS,
    CANNOT_RECEIVE_PRODUCTS,
    NO_DESTINATION,
    NOT_SERVED,
    NOT_YES_NO,
    PACK_ONE_KIND,
    RANGE_REVERSED,
    REASON_FOR_REJECTION,
    REQUIRED,
    shipment_dispatch,
    shipment_pack,
    shipment_receive,
)
from cellclinic.lab.tests.builders import (
    AT_C,
    COURIER,
    RANGE_C,
    donor_batch_to,
    donor_lot_ready,
    field_errors,
    lab_counts,
    lab_pathway_to,
    statuses,
)
from conftest import make_user

pytestmark = pytest.mark.django_db


def to(stage, patient, practitioner, lab_li, qa_quinn, **options):
    return lab_pathway_to(stage, patient, practitioner, technician=lab_li, reviewer=qa_quinn, **options)


def pack(actor, **overrides):
    arguments = {
        "courier": COURIER,
        "temperature_min_c": RANGE_C[0],
        "temperature_max_c": RANGE_C[1],
        **overrides,
    }
    return shipment_pack(actor=actor, **arguments)


def refused(call, **arguments) -> dict[str, str]:
    before = lab_counts()
    with pytest.raises(InvalidInput) as caught:
        call(**arguments)
    assert lab_counts() == before
    return field_errors(caught.value)


@pytest.fixture
def collected(patient_a, dr_ada, lab_li, qa_quinn):
    return to("collected", patient_a, dr_ada, lab_li, qa_quinn)


# --- specimens, clinic to lab --------------------------------------------------------------------------


def test_specimens_are_packed_dispatched_and_received_each_with_its_event(collected, dr_ada, lab_li):
    shipment = pack(dr_ada, specimens=[collected.specimen], tracking="CC-1234")
    assert (shipment.site, shipment.lab, shipment.direction, shipment.status) == (
        collected.clinic,
        collected.lab,
        Shipment.Direction.TO_LAB,
        states.SHIPMENT_PACKED,
    )
    assert (shipment.courier, shipment.tracking, shipment.temperature_min_c, shipment.temperature_max_c) == (
        COURIER,
        "CC-1234",
        Decimal("2.0"),
        Decimal("8.0"),
    )
    assert statuses(collected.specimen) == [states.SPECIMEN_PACKED]
    shipment_dispatch(actor=dr_ada, shipment=shipment, temperature_c="4.46")
    assert statuses(shipment, collected.specimen) == [states.SHIPMENT_IN_TRANSIT, states.SPECIMEN_SHIPPED]
    shipment_receive(
        actor=lab_li, shipment=shipment, temperature_c=5, condition="Sealed, cold", accepted=True
    )
    assert statuses(shipment, collected.specimen) == [states.SHIPMENT_DELIVERED, states.SPECIMEN_RECEIVED]
    events = list(collected.specimen.custody.order_by("at", "id"))
    assert [(e.kind, e.at_site_id, e.by_id) for e in events] == [
        ("collected", collected.clinic.pk, dr_ada.pk),
        ("packed", collected.clinic.pk, dr_ada.pk),
        ("shipped", collected.clinic.pk, dr_ada.pk),
        ("received", collected.lab.pk, lab_li.pk),
    ]
    assert events[2].temperature_c == Decimal("4.5") and events[2].shipment == shipment
    assert (events[3].temperature_c, events[3].condition) == (Decimal("5.0"), "Sealed, cold")
    actions = list(
        AuditEvent.objects.filter(object_type="shipment").order_by("id").values_list("action", flat=True)
    )
    assert actions == ["shipment.pack", "shipment.dispatch", "shipment.receive"]


def test_clinic_staff_send_specimens_and_lab_staff_receive_them(
    collected, dr_ada, admin_al, dr_cy, lab_li, nurse_bo
):
    specimens = [collected.specimen]
    with pytest.raises(Forbidden, match=CANNOT_COLLECT):
        pack(lab_li, specimens=specimens)
    with pytest.raises(Forbidden):
        pack(admin_al, specimens=specimens)
    with pytest.raises(NotFound):
        pack(dr_cy, specimens=specimens)
    shipment = pack(nurse_bo, specimens=specimens)
    with pytest.raises(Forbidden):
        shipment_dispatch(actor=lab_li, shipment=shipment, temperature_c=AT_C)
    shipment_dispatch(actor=nurse_bo, shipment=shipment, temperature_c=AT_C)
    with pytest.raises(Forbidden, match=CANNOT_PROCESS):
        shipment_receive(actor=dr_ada, shipment=shipment, temperature_c=AT_C, condition="ok", accepted=True)
    with pytest.raises(NotFound):
        shipment_receive(actor=dr_cy, shipment=shipment, temperature_c=AT_C, condition="ok", accepted=True)
    assert statuses(shipment) == [states.SHIPMENT_IN_TRANSIT]


def test_pack_takes_specimens_or_products(collected, dr_ada):
    assert refused(
        shipment_pack, actor=dr_ada, courier=COURIER, temperature_min_c=2, temperature_max_c=8
    ) == {"specimens": PACK_ONE_KIND}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"courier": " "}, {"courier": REQUIRED}),
        ({"temperature_min_c": 9}, {"temperature_max_c": RANGE_REVERSED}),
        ({"temperature_min_c": "cold"}, {"temperature_min_c": "must be a number"}),
        ({"temperature_max_c": 500}, {"temperature_max_c": "must be from -200 to 100"}),
        ({"tracking": "x" * 81}, {"tracking": "can have at most 80 characters"}),
    ],
)
def test_bad_shipment_details_are_named(collected, dr_ada, overrides, expected):
    assert refused(pack, actor=dr_ada, specimens=[collected.specimen], **overrides) == expected


def test_a_specimen_is_packed_once(collected, dr_ada):
    pack(dr_ada, specimens=[collected.specimen])
    errors = refused(pack, actor=dr_ada, specimens=[collected.specimen])
    refusal = "A specimen that is packed for shipping is already packed for shipping"
    assert set(errors) == {"specimens"} and errors["specimens"].startswith(refusal)
    assert errors["specimens"].endswith(f"; {collected.chain.coi} is already in a shipment")


def test_a_specimen_whose_consent_was_withdrawn_is_not_sent(collected, dr_ada):
    consent_withdraw(consent=collected.consent, actor=dr_ada, reason="Changed their mind")
    errors = refused(pack, actor=dr_ada, specimens=[collected.specimen])
    assert errors == {"specimens": f"the consent for {collected.chain.coi} is no longer in force"}


def test_dispatch_needs_a_temperature_within_the_range_and_happens_once(collected, dr_ada):
    shipment = pack(dr_ada, specimens=[collected.specimen])
    errors = refused(shipment_dispatch, actor=dr_ada, shipment=shipment, temperature_c="12")
    assert errors == {"temperature_c": "12.0 °C is outside the shipment's range (2.0 to 8.0 °C)"}
    shipment_dispatch(actor=dr_ada, shipment=shipment, temperature_c=AT_C)
    errors = refused(shipment_dispatch, actor=dr_ada, shipment=shipment, temperature_c=AT_C)
    assert set(errors) == {"status", "specimens"}


@pytest.fixture
def in_transit(patient_a, dr_ada, lab_li, qa_quinn):
    return to("shipped", patient_a, dr_ada, lab_li, qa_quinn)


def test_the_lab_rejects_specimens_with_a_reason(in_transit, lab_li):
    assert refused(
        shipment_receive,
        actor=lab_li,
        shipment=in_transit.shipment,
        temperature_c=AT_C,
        condition="Leaking",
        accepted=False,
    ) == {"reason": REASON_FOR_REJECTION}
    shipment_receive(
        actor=lab_li,
        shipment=in_transit.shipment,
        temperature_c=AT_C,
        condition="Leaking",
        accepted=False,
        reason="The container leaked",
    )
    specimen = in_transit.specimen
    specimen.refresh_from_db()
    assert (specimen.status, specimen.rejected_reason) == (states.SPECIMEN_REJECTED, "The container leaked")
    event = specimen.custody.latest("id")
    assert (event.kind, event.note, event.condition) == ("rejected", "The container leaked", "Leaking")


def test_contents_that_arrive_too_warm_cannot_be_accepted(in_transit, lab_li):
    errors = refused(
        shipment_receive,
        actor=lab_li,
        shipment=in_transit.shipment,
        temperature_c=15,
        condition="Warm",
        accepted=True,
    )
    assert set(errors) == {"accepted"} and "reject them" in errors["accepted"]
    shipment_receive(
        actor=lab_li,
        shipment=in_transit.shipment,
        temperature_c=15,
        condition="Warm",
        accepted=False,
        reason="Too warm",
    )
    assert statuses(in_transit.specimen) == [states.SPECIMEN_REJECTED]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"condition": ""}, {"condition": REQUIRED}),
        ({"accepted": "yes"}, {"accepted": NOT_YES_NO}),
        ({"temperature_c": None}, {"temperature_c": "must be a number"}),
    ],
)
def test_bad_receipt_details_are_named(in_transit, lab_li, overrides, expected):
    arguments = {"temperature_c": AT_C, "condition": "Sealed", "accepted": True, **overrides}
    assert refused(shipment_receive, actor=lab_li, shipment=in_transit.shipment, **arguments) == expected


def test_a_specimen_whose_consent_was_withdrawn_on_the_way_is_quarantined_on_arrival(
    in_transit, dr_ada, lab_li
):
    consent_withdraw(consent=in_transit.consent, actor=dr_ada, reason="Changed their mind")
    assert statuses(in_transit.specimen) == [states.SPECIMEN_SHIPPED]
    shipment_receive(
        actor=lab_li, shipment=in_transit.shipment, temperature_c=AT_C, condition="ok", accepted=True
    )
    assert statuses(in_transit.specimen) == [states.SPECIMEN_QUARANTINED]
    kinds = list(in_transit.specimen.custody.order_by("id").values_list("kind", flat=True))
    assert kinds[-2:] == ["received", "quarantined"]


# --- products, lab to clinic ---------------------------------------------------------------------------


def test_released_products_go_back_to_the_clinic_on_one_timeline(
    patient_a, dr_ada, nurse_bo, lab_li, qa_quinn
):
    made = to("released", patient_a, dr_ada, lab_li, qa_quinn)
    shipment = pack(lab_li, products=made.products)
    assert (shipment.direction, shipment.site, shipment.lab) == (
        Shipment.Direction.TO_CLINIC,
        made.clinic,
        made.lab,
    )
    assert statuses(*made.products) == [states.PRODUCT_RELEASED] * 2
    shipment_dispatch(actor=lab_li, shipment=shipment, temperature_c=AT_C)
    assert statuses(*made.products) == [states.PRODUCT_SHIPPED] * 2
    shipment_receive(actor=nurse_bo, shipment=shipment, temperature_c=AT_C, condition="Sealed", accepted=True)
    assert statuses(*made.products) == [states.PRODUCT_RECEIVED] * 2
    for product in made.products:
        events = list(product.custody.order_by("at", "id"))
        assert [(e.kind, e.at_site_id) for e in events] == [
            ("released", made.lab.pk),
            ("issued", made.lab.pk),
            ("shipped", made.lab.pk),
            ("received", made.clinic.pk),
        ]
        assert events[-1].by == nurse_bo


def test_lab_staff_send_products_and_clinic_staff_receive_them(patient_a, dr_ada, dr_cy, lab_li, qa_quinn):
    made = to("released", patient_a, dr_ada, lab_li, qa_quinn)
    with pytest.raises(Forbidden, match=CANNOT_PROCESS):
        pack(dr_ada, products=made.products)
    with pytest.raises(NotFound):
        pack(dr_cy, products=made.products)
    with pytest.raises(Forbidden):
        pack(qa_quinn, products=made.products)
    shipment = pack(lab_li, products=made.products)
    shipment_dispatch(actor=lab_li, shipment=shipment, temperature_c=AT_C)
    with pytest.raises(Forbidden, match=CANNOT_RECEIVE_PRODUCTS):
        shipment_receive(actor=lab_li, shipment=shipment, temperature_c=AT_C, condition="ok", accepted=True)
    assert statuses(shipment) == [states.SHIPMENT_IN_TRANSIT]


def test_products_not_released_are_not_sent(patient_a, dr_ada, lab_li, qa_quinn):
    made = to("awaiting_release", patient_a, dr_ada, lab_li, qa_quinn)
    errors = refused(pack, actor=lab_li, products=made.products)
    assert set(errors) == {"products"} and "made and waiting for release" in errors["products"]


def test_an_expired_product_is_not_sent(patient_a, dr_ada, lab_li, qa_quinn):
    made = to("released", patient_a, dr_ada, lab_li, qa_quinn)
    Product.objects.filter(pk=made.products[0].pk).update(expires_at=timezone.now())
    errors = refused(pack, actor=lab_li, products=made.products)
    assert errors == {"products": f"{made.products[0].din} is past its expiry"}


def test_the_clinic_holds_products_that_arrive_damaged_in_quarantine(
    patient_a, dr_ada, nurse_bo, lab_li, qa_quinn
):
    made = to("issued", patient_a, dr_ada, lab_li, qa_quinn)
    shipment_dispatch(actor=lab_li, shipment=made.product_shipment, temperature_c=AT_C)
    shipment_receive(
        actor=nurse_bo,
        shipment=made.product_shipment,
        temperature_c=AT_C,
        condition="Box crushed",
        accepted=False,
        reason="Vials cracked",
    )
    for product in made.products:
        product.refresh_from_db()
        assert (product.status, product.status_reason) == (states.PRODUCT_QUARANTINED, "Vials cracked")
        assert product.custody.latest("id").kind == CustodyEvent.Kind.REJECTED


def test_donor_products_are_sent_to_a_clinic_the_lab_serves(clinic_a, clinic_b, lab, lab_li, qa_quinn):
    lot = donor_lot_ready(lab, lab_li, qa_quinn)
    _, products, _ = donor_batch_to("released", lot, lab_li, qa_quinn)
    assert {p.site_id for p in products} == {lab.pk}
    assert refused(pack, actor=lab_li, products=products) == {"clinic": NO_DESTINATION}
    assert refused(pack, actor=lab_li, products=products, clinic=lab) == {"clinic": NOT_SERVED}
    shipment = pack(lab_li, products=products, clinic=clinic_b)
    assert shipment.site == clinic_b
    assert {p.site_id for p in Product.objects.filter(pk__in=[p.pk for p in products])} == {clinic_b.pk}


def test_packing_and_dispatching_products_take_the_same_queries_however_many(
    patient_a, dr_ada, lab_li, qa_quinn
):
    made = to("released", patient_a, dr_ada, lab_li, qa_quinn, doses=3)
    counted = []
    for products in (made.products[:1], made.products[1:]):
        with CaptureQueriesContext(connection) as packing:
            shipment = pack(lab_li, products=products)
        with CaptureQueriesContext(connection) as dispatching:
            shipment_dispatch(actor=lab_li, shipment=shipment, temperature_c=AT_C)
        counted.append((len(packing), len(dispatching)))
    assert counted[0] == counted[1]


def test_a_second_clinic_user_cannot_receive_anothers_products(patient_a, dr_ada, lab_li, qa_quinn, clinic_b):
    made = to("issued", patient_a, dr_ada, lab_li, qa_quinn)
    shipment_dispatch(actor=lab_li, shipment=made.product_shipment, temperature_c=AT_C)
    elsewhere = make_user("nurse_rsc", first="Rae", last="Sun", roles=[(clinic_b, "nurse")])
    with pytest.raises(NotFound):
        shipment_receive(
            actor=elsewhere, shipment=made.product_shipment, temperature_c=AT_C, condition="ok", accepted=True
        )
