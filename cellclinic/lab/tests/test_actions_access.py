"""Who reaches the lab's action pages: every action a page offers opens its form, nothing else is offered;
lab staff read no patient's identity there, a portal patient and another clinic find none of them, and a
form posted empty changes nothing."""

import pytest

from cellclinic.lab import states
from cellclinic.lab.models import BedsideCheck, QCResult
from cellclinic.lab.tests.actions_pages import NOT_NOW, offered_links, page
from cellclinic.lab.tests.builders import donor_lot_ready, lab_advance, lab_counts, lab_pathway_to
from cellclinic.lab.tests.test_two_party_pages import _secrets
from cellclinic.lab.urls import urlpatterns
from cellclinic.patients.models import Patient

pytestmark = pytest.mark.django_db

PERSONAS = ("dr_ada", "nurse_bo", "admin_al", "lab_li", "qa_quinn")


def action_pages(made, lot, check_id: int) -> dict[str, str]:
    """A path for every action route, about MADE's records (a pathway at the clinic), LOT and a check."""
    batch, product, specimen = made.batch, made.products[0], made.specimen
    result = QCResult.objects.filter(batch=batch).first()
    return {
        "harvest/<int:plan_id>/": f"/lab/harvest/{made.plan.pk}/",
        "specimens/<int:specimen_id>/pack/": f"/lab/specimens/{specimen.pk}/pack/",
        "specimens/<int:specimen_id>/dispose/": f"/lab/specimens/{specimen.pk}/dispose/",
        "specimens/<int:specimen_id>/plan-batch/": f"/lab/specimens/{specimen.pk}/plan-batch/",
        "shipments/<int:shipment_id>/dispatch/": f"/lab/shipments/{made.shipment.pk}/dispatch/",
        "shipments/<int:shipment_id>/receive/": f"/lab/shipments/{made.product_shipment.pk}/receive/",
        "batches/<int:batch_id>/start/": f"/lab/batches/{batch.pk}/start/",
        "batches/<int:batch_id>/step/": f"/lab/batches/{batch.pk}/step/",
        "batches/<int:batch_id>/deviation/": f"/lab/batches/{batch.pk}/deviation/",
        "batches/<int:batch_id>/fail/": f"/lab/batches/{batch.pk}/fail/",
        "batches/<int:batch_id>/cancel/": f"/lab/batches/{batch.pk}/cancel/",
        "batches/<int:batch_id>/finish/": f"/lab/batches/{batch.pk}/finish/",
        "batches/<int:batch_id>/qc/": f"/lab/batches/{batch.pk}/qc/",
        "qc-results/<int:result_id>/correct/": f"/lab/qc-results/{result.pk}/correct/",
        "batches/<int:batch_id>/release/": f"/lab/batches/{batch.pk}/release/",
        "batches/<int:batch_id>/reject/": f"/lab/batches/{batch.pk}/reject/",
        "batches/<int:batch_id>/ship/": f"/lab/batches/{batch.pk}/ship/",
        "batches/<int:batch_id>/banked-cells/dispose/": f"/lab/batches/{batch.pk}/banked-cells/dispose/",
        "products/<str:din>/quarantine/": f"/lab/products/{product.din}/quarantine/",
        "products/<str:din>/release/": f"/lab/products/{product.din}/release/",
        "products/<str:din>/recall/": f"/lab/products/{product.din}/recall/",
        "products/<str:din>/dispose/": f"/lab/products/{product.din}/dispose/",
        "expired/": "/lab/expired/",
        "donor-lots/new/": "/lab/donor-lots/new/",
        "donor-lots/<int:lot_id>/screening/": f"/lab/donor-lots/{lot.pk}/screening/",
        "donor-lots/<int:lot_id>/plan-batch/": f"/lab/donor-lots/{lot.pk}/plan-batch/",
        "donor-lots/<int:lot_id>/eligibility/": f"/lab/donor-lots/{lot.pk}/eligibility/",
        "reagent-lots/new/": "/lab/reagent-lots/new/",
        "bedside/": "/lab/bedside/",
        "bedside/checks/<int:check_id>/": f"/lab/bedside/checks/{check_id}/",
        "bedside/checks/<int:check_id>/administer/": f"/lab/bedside/checks/{check_id}/administer/",
    }


READING_ROUTES = {
    "",
    "waiting/",
    "specimens/<int:specimen_id>/",
    "specimens/<int:specimen_id>/label.pdf",
    "batches/<int:batch_id>/",
    "products/<str:din>/",
    "products/<str:din>/label.pdf",
    "donor-lots/",
    "donor-lots/<int:lot_id>/",
    "reagent-lots/",
}


@pytest.fixture
def world(patient_a, dr_ada, lab, lab_li, qa_quinn):
    """Grace Hopper's product back at the clinic and checked at the bedside, and a donor lot."""
    made = lab_pathway_to("at_clinic", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    from cellclinic.lab.administration import bedside_check

    checked, _ = bedside_check(actor=dr_ada, mrn=patient_a.mrn, din=made.products[0].din)
    lot = donor_lot_ready(lab, lab_li, qa_quinn)
    return made, lot, checked


def test_every_action_route_is_probed_here(world):
    made, lot, checked = world
    routes = {str(pattern.pattern) for pattern in urlpatterns}
    assert routes == READING_ROUTES | set(action_pages(made, lot, checked.pk))


@pytest.mark.parametrize("persona", ["lab_li", "qa_quinn"])
def test_lab_staff_read_no_patient_identity_on_any_action_page_and_an_empty_form_changes_nothing(
    client, request, world, patient_a, persona
):
    made, lot, checked = world
    client.force_login(request.getfixturevalue(persona))
    secrets = _secrets(Patient.objects.get(pk=patient_a.pk))
    before = lab_counts()
    statuses = set()
    for path in action_pages(made, lot, checked.pk).values():
        for response in (client.get(path), client.post(path, {})):
            statuses.add(response.status_code)
            assert response.status_code in (200, 403, 404, 405, 422), path
            body = response.content.decode().lower()
            for secret in secrets:
                assert secret.lower() not in body, f"{persona} reads {secret!r} at {path}"
    assert lab_counts() == before
    assert {200, 403, 404, 422} <= statuses


@pytest.mark.parametrize("persona", ["pat", "dr_cy"])
def test_a_portal_patient_and_another_clinic_find_no_action_on_these_records(client, request, world, persona):
    made, lot, checked = world
    client.force_login(request.getfixturevalue(persona))
    before = lab_counts()
    for route, path in action_pages(made, lot, checked.pk).items():
        if persona == "dr_cy" and route in ("bedside/", "expired/"):
            continue  # his own clinic's bedside page, and its products past their expiry
        for response in (client.get(path), client.post(path, {"reason": "x", "password": "x"})):
            # 405: a page that only reads, or an action that only posts.
            assert response.status_code in (404, 405), (path, response.status_code)
    assert lab_counts() == before


# Every action offered opens its form; nothing is offered that would be refused.

STAGES = ("collected", "shipped", "at_lab", "in_process", "qc_pending", "awaiting_release", "released")
LATER = ("issued", "at_clinic", "failed", "rejected")


def _detail_pages(made) -> list[str]:
    paths = [f"/lab/specimens/{made.specimen.pk}/"]
    if made.batch is not None:
        paths.append(f"/lab/batches/{made.batch.pk}/")
    paths += [f"/lab/products/{p.din}/" for p in made.products[:1]]
    return paths


def _opens_its_form(client, user, href: str) -> None:
    if href.endswith(".pdf"):
        return
    body = page(client, user, href)
    main = body.split('<main id="main"', 1)[1]
    assert NOT_NOW not in main, href
    if href != "/lab/bedside/":
        assert '<form method="post"' in main, href


@pytest.mark.parametrize("stage", STAGES + LATER)
def test_every_action_offered_opens_its_form(client, request, patient_a, dr_ada, lab_li, qa_quinn, stage):
    made = lab_pathway_to(stage, patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    seen = set()
    for persona in PERSONAS:
        user = request.getfixturevalue(persona)
        for path in _detail_pages(made):
            for label, href in offered_links(page(client, user, path)).items():
                _opens_its_form(client, user, href)
                seen.add((persona, label))
    lab_labels = {label for persona, label in seen if persona in ("lab_li", "qa_quinn")}
    clinic_labels = {label for persona, label in seen if persona in ("dr_ada", "nurse_bo", "admin_al")}
    # Lab staff never hold a clinic action, and the clinic never a lab one.
    assert not clinic_labels & {"Plan a batch", "Start processing", "Release the batch", "Recall"}
    assert not lab_labels & {"Pack for the lab", "Check at the bedside", "Record a re-harvest"}
    assert "Print the specimen label (PDF)" not in lab_labels


def test_the_admin_of_the_clinic_is_offered_labels_only(
    client, admin_al, patient_a, dr_ada, lab_li, qa_quinn
):
    made = lab_pathway_to("at_clinic", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    for path in _detail_pages(made):
        labels = set(offered_links(page(client, admin_al, path)))
        assert labels <= {"Print the specimen label (PDF)", "Print the product label (PDF)"}


def test_the_next_step_of_each_stage_is_offered_to_the_person_who_takes_it(
    client, request, patient_a, dr_ada, lab_li, qa_quinn
):
    made = lab_pathway_to("collected", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    expected = {
        "collected": ("dr_ada", "specimen", "Pack for the lab"),
        "shipped": ("lab_li", "specimen", "Receive at the lab"),
        "at_lab": ("lab_li", "specimen", "Plan a batch"),
        "in_process": ("lab_li", "batch", "Record a process step"),
        "qc_pending": ("lab_li", "batch", "Enter QC results"),
        "awaiting_release": ("qa_quinn", "batch", "Release the batch"),
        "released": ("lab_li", "batch", "Pack products for the clinic"),
        "issued": ("lab_li", "product", "Hand to the courier"),
        "at_clinic": ("dr_ada", "product", "Check at the bedside"),
    }
    for stage, (persona, kind, label) in expected.items():
        if stage != "collected":
            lab_advance(made, stage)
        path = {
            "specimen": f"/lab/specimens/{made.specimen.pk}/",
            "batch": f"/lab/batches/{made.batch.pk}/" if made.batch else "",
            "product": f"/lab/products/{made.products[0].din}/" if made.products else "",
        }[kind]
        assert offered_links(page(client, request.getfixturevalue(persona), path)).get(label), (stage, label)
    assert made.products[0].status == states.PRODUCT_RECEIVED
    assert not BedsideCheck.objects.exists()
