"""QC results: judged at once against the consented protocol's release criteria; corrected, never edited."""

import pytest

from cellclinic.audit.models import AuditEvent
from cellclinic.core.errors import Forbidden, InvalidInput
from cellclinic.lab import states
from cellclinic.lab.models import QCResult
from cellclinic.lab.services import (
    ALREADY_ENTERED,
    QC_CLOSED,
    REQUIRED,
    RESULT_NOT_CURRENT,
    TEXT_HAS_NO_UNIT,
    batch_finish_processing,
    batch_plan,
    qc_result_correct,
    qc_result_enter,
)
from cellclinic.lab.tests.builders import (
    criteria_of,
    enter_results,
    field_errors,
    lab_counts,
    lab_pathway_to,
    statuses,
)

pytestmark = pytest.mark.django_db

VIABILITY = "Viability"
STERILITY = "Sterility"
CELL_COUNT = "Cell count (formulated)"


def refused(call, **arguments) -> dict[str, str]:
    before = lab_counts()
    with pytest.raises(InvalidInput) as caught:
        call(**arguments)
    assert lab_counts() == before
    return field_errors(caught.value)


@pytest.fixture
def qc_pending(patient_a, dr_ada, lab_li, qa_quinn):
    return lab_pathway_to("qc_pending", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)


def enter(actor, batch, test, value, unit=""):
    return qc_result_enter(actor=actor, batch=batch, test=test, value=value, unit=unit)


def test_a_result_within_its_limit_passes_and_shows_the_limit(qc_pending, lab_li):
    result = enter(lab_li, qc_pending.batch, "viability", "72", "%")
    assert (result.test, result.value, result.unit, result.limit, result.status) == (
        VIABILITY,
        "72",
        "%",
        "≥ 70%",
        states.QC_PASSED,
    )
    assert (result.entered_by, result.batch) == (lab_li, qc_pending.batch)
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.object_type, event.object_id) == (
        "qc.enter",
        "batch",
        str(qc_pending.batch.pk),
    )
    assert event.after["status"] == "passed" and event.after["judged"] == "72% meets ≥ 70%"


def test_a_result_outside_its_limit_is_kept_as_failed(qc_pending, lab_li):
    result = enter(lab_li, qc_pending.batch, VIABILITY, "69.9", "%")
    assert result.status == states.QC_FAILED
    assert AuditEvent.objects.latest("id").after["judged"] == "69.9% does not meet ≥ 70%"


def test_text_results_pass_when_they_say_the_expected_result(qc_pending, lab_li):
    assert enter(lab_li, qc_pending.batch, STERILITY, "No growth").status == states.QC_PASSED
    assert enter(lab_li, qc_pending.batch, "Mycoplasma", "Detected").status == states.QC_FAILED


def test_a_result_in_another_power_of_ten_is_converted(qc_pending, lab_li):
    result = enter(lab_li, qc_pending.batch, CELL_COUNT, "15", "×10⁶ cells/mL")
    assert result.status == states.QC_PASSED and result.limit == "1–2 ×10⁷ cells/mL"


@pytest.mark.parametrize(
    ("test", "value", "unit", "field", "words"),
    [
        (
            "Potency",
            "1",
            "",
            "test",
            "is not a release criterion of this protocol; the criteria are: Sterility",
        ),
        ("", "1", "", "test", REQUIRED),
        (VIABILITY, "72", "cells", "unit", "a result in cells cannot be compared with a limit in %"),
        (VIABILITY, "high", "%", "value", "needs a number in %"),
        (VIABILITY, "", "%", "value", REQUIRED),
        (STERILITY, "No growth", "%", "unit", TEXT_HAS_NO_UNIT),
    ],
)
def test_bad_results_are_named_and_nothing_is_kept(qc_pending, lab_li, test, value, unit, field, words):
    errors = refused(qc_result_enter, actor=lab_li, batch=qc_pending.batch, test=test, value=value, unit=unit)
    assert set(errors) == {field} and words in errors[field]


def test_a_test_has_one_current_result(qc_pending, lab_li):
    enter(lab_li, qc_pending.batch, VIABILITY, "80", "%")
    assert refused(
        qc_result_enter, actor=lab_li, batch=qc_pending.batch, test=VIABILITY, value="81", unit="%"
    ) == {"test": ALREADY_ENTERED}


def test_only_the_labs_technicians_enter_results(qc_pending, qa_quinn, dr_ada):
    for actor in (qa_quinn, dr_ada):
        with pytest.raises(Forbidden):
            enter(actor, qc_pending.batch, VIABILITY, "80", "%")
    assert not QCResult.objects.exists()


def test_the_batch_waits_for_release_once_every_criterion_has_a_result(qc_pending, lab_li):
    criteria = criteria_of(qc_pending.batch)
    assert len(criteria) == 7
    enter_results(qc_pending.batch, lab_li, failing=(VIABILITY,))
    # A failing result is a result: QA decides on it.
    assert statuses(qc_pending.batch) == [states.BATCH_AWAITING_RELEASE]
    assert AuditEvent.objects.filter(action="batch.qc_complete").count() == 1


def test_results_entered_during_processing_count_when_it_finishes(patient_a, dr_ada, lab_li, qa_quinn):
    made = lab_pathway_to("in_process", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    enter_results(made.batch, lab_li)
    assert statuses(made.batch) == [states.BATCH_IN_PROCESS]
    batch_finish_processing(actor=lab_li, batch=made.batch, doses_made=1)
    assert statuses(made.batch) == [states.BATCH_AWAITING_RELEASE]


def test_no_results_on_a_batch_not_yet_started(patient_a, dr_ada, lab_li, qa_quinn):
    made = lab_pathway_to("at_lab", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    batch = batch_plan(actor=lab_li, specimen=made.specimen, doses=1)
    errors = refused(qc_result_enter, actor=lab_li, batch=batch, test=VIABILITY, value="80", unit="%")
    assert errors == {"batch": "the batch is planned: nothing more is recorded on it"}


# --- corrections -------------------------------------------------------------------------------------------


def test_a_correction_keeps_the_earlier_result_with_its_reason(qc_pending, lab_li):
    first = enter(lab_li, qc_pending.batch, VIABILITY, "7.2", "%")
    assert first.status == states.QC_FAILED
    replacement = qc_result_correct(
        actor=lab_li, result=first, value="72", unit="%", reason="Decimal point misplaced"
    )
    first.refresh_from_db()
    assert (first.status, first.corrected_by, first.correction_reason, first.value) == (
        states.QC_CORRECTED,
        replacement,
        "Decimal point misplaced",
        "7.2",
    )
    assert (replacement.test, replacement.value, replacement.status) == (VIABILITY, "72", states.QC_PASSED)
    event = AuditEvent.objects.filter(action="qc.correct").get()
    assert event.before == {"test": VIABILITY, "value": "7.2", "unit": "%", "status": "failed"}
    assert event.after["value"] == "72" and event.reason == "Decimal point misplaced"


def test_a_correction_needs_a_reason_and_a_current_result(qc_pending, lab_li):
    first = enter(lab_li, qc_pending.batch, VIABILITY, "72", "%")
    assert refused(qc_result_correct, actor=lab_li, result=first, value="75", unit="%", reason="") == {
        "reason": REQUIRED
    }
    qc_result_correct(actor=lab_li, result=first, value="75", unit="%", reason="Recounted")
    first.refresh_from_db()
    errors = refused(qc_result_correct, actor=lab_li, result=first, value="76", unit="%", reason="Again")
    assert errors == {"result": RESULT_NOT_CURRENT.format(status="corrected by a later result")}


def test_a_correction_is_judged_like_a_new_result(qc_pending, lab_li):
    first = enter(lab_li, qc_pending.batch, VIABILITY, "72", "%")
    errors = refused(qc_result_correct, actor=lab_li, result=first, value="72", unit="mL", reason="Unit")
    assert set(errors) == {"unit"}


def test_a_correction_while_waiting_for_release_leaves_the_decision_to_qa(
    patient_a, dr_ada, lab_li, qa_quinn
):
    made = lab_pathway_to("awaiting_release", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    result = made.batch.qc_results.get(test=VIABILITY)
    replacement = qc_result_correct(actor=lab_li, result=result, value="60", unit="%", reason="Recount")
    assert replacement.status == states.QC_FAILED
    assert statuses(made.batch) == [states.BATCH_AWAITING_RELEASE]


def test_results_of_a_decided_batch_are_closed(patient_a, dr_ada, lab_li, qa_quinn):
    made = lab_pathway_to("released", patient_a, dr_ada, technician=lab_li, reviewer=qa_quinn)
    result = made.batch.qc_results.get(test=VIABILITY)
    errors = refused(qc_result_correct, actor=lab_li, result=result, value="90", unit="%", reason="Late")
    assert errors == {"batch": QC_CLOSED.format(status="released")}
