"""The lab's actions in the browser: one page per action, each a plain form that calls one service.

Every action page works the same way. A GET shows the form (or, when the record's state does not
allow the action now, why not: see `available`); a reader who may see the record but not do this is
answered 403 with the service's reason, and a record out of reach 404, as a missing one is. A POST
calls exactly one service: its InvalidInput becomes errors beside the fields it names (422, nothing
changed), its Forbidden the 403 page with the reason, and success a redirect to the record's page with
a message (POST/redirect/GET). Signatures go through the house's password-entry pause.

The bedside check is the last of them: the MRN and the DIN, scanned or typed, checked and recorded by
`administration.bedside_check`; a passed check offers "Record administration"
(`administration.product_administer`).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Window
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.views.decorators.http import require_http_methods, require_POST

from cellclinic.accounts.access import staff_site_ids
from cellclinic.accounts.models import Site, User
from cellclinic.accounts.roles import Permission
from cellclinic.accounts.throttle import with_password_entry
from cellclinic.audit.services import record_read
from cellclinic.catalogue.registry import get_catalogue, therapy_name
from cellclinic.core.errors import FieldError, Forbidden, InvalidInput, NotFound
from cellclinic.core.forms import add_service_errors
from cellclinic.core.pagination import PAGE_SIZE
from cellclinic.lab import administration, available, release, selectors, services, states
from cellclinic.lab import forms as lab_forms
from cellclinic.lab.available import Verdict
from cellclinic.lab.donor import eligibility_problems
from cellclinic.lab.isbt import Din
from cellclinic.lab.models import Batch, BedsideCheck, DonorLot, Product, QCResult, Shipment, Specimen
from cellclinic.lab.views import din_of, qc_lines, screening_table
from cellclinic.treatment.selectors import plan_get_for_staff

NOTHING_CHANGED = "Nothing was changed."
SIGNATURE_MEANING = "Meaning of this signature:"
RELEASED_MEANING = "released"
REJECTED_MEANING = "reviewed: the batch is rejected"
NOW_SCAN_THE_DIN = "Now scan or type the product's DIN."
NO_PATIENT = "No patient at your clinic has this MRN; check the wristband and scan again."


@dataclass
class Page:
    """How an action page reads: its title, the record it acts on, its button and what goes with them."""

    title: str
    back: str
    back_label: str
    button: str
    intro: str = ""
    about: str = "About the record"
    facts: list[tuple[str, str]] = field(default_factory=list)
    danger: bool = False
    meaning: str = ""
    statement: str = ""
    template: str = "lab/actions/form.html"
    extra: dict[str, Any] = field(default_factory=dict)


# --- how every action page answers ----------------------------------------------------------------------


def _reader(request) -> User:
    """Staff who may read some lab record; anyone else gets the answer a missing page gets."""
    if not selectors.sees_lab_records(request.user):
        raise Http404(selectors.NOT_FOUND)
    return request.user


def _says_why(view):
    """A Forbidden raised by the action's rule or service answers 403 with its reason, on the page."""

    @wraps(view)
    def answer(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Forbidden as refused:
            context = {"nav_active": "lab", "reason": str(refused)}
            return render(request, "lab/actions/refused.html", context, status=403)

    return answer


def _service_errors(form, error: InvalidInput, aliases: dict[str, str] | None) -> None:
    """ERROR's field errors beside the form's fields (a service name ALIASES renames), the rest on top."""
    if aliases:
        renamed = [FieldError(aliases.get(item.field, item.field), item.message) for item in error.errors]
        error = InvalidInput(detail=error.detail, errors=renamed)
    add_service_errors(form, error)


_UNDONE = object()


def _perform(request, form, perform: Callable[[dict], Any], *, aliases=None, signs=False) -> tuple[Any, int]:
    """Run the one service call with FORM's data: (its answer, 200), or (_UNDONE, the status to answer)."""
    if signs:
        answers: list[Any] = []
        done, status = with_password_entry(
            request, form, lambda: answers.append(perform(form.service_data()))
        )
        return (answers[0], 200) if done else (_UNDONE, status)
    if not form.is_valid():
        return _UNDONE, 422
    try:
        return perform(form.service_data()), 200
    except InvalidInput as error:
        _service_errors(form, error, aliases)
        return _UNDONE, 422


def _action(
    request,
    *,
    form,
    verdict: Verdict,
    page: Page,
    perform: Callable[[dict], Any],
    done: Callable[[Any], tuple[str, str]],
    aliases: dict[str, str] | None = None,
    signs: bool = False,
):
    """GET: the form, or why the action is not open now. POST: the service, then the record's page."""
    status = 200
    if request.method == "POST":
        answer, status = _perform(request, form, perform, aliases=aliases, signs=signs)
        if answer is not _UNDONE:
            url, message = done(answer)
            messages.success(request, message)
            return redirect(url)
    elif verdict.forbidden:
        raise Forbidden(verdict.forbidden)
    context = {
        "nav_active": "lab",
        "form": form,
        "page": page,
        "not_now": verdict.not_now if request.method == "GET" else "",
        "nothing_changed": NOTHING_CHANGED,
        "meaning_label": SIGNATURE_MEANING,
        **page.extra,
    }
    return render(request, page.template, context, status=status)


def _post(request):
    return request.POST if request.method == "POST" else None


def _celsius(value) -> str:
    return f"{release.number(value)} °C"


def _range(shipment: Shipment) -> str:
    return f"{_celsius(shipment.temperature_min_c)} to {_celsius(shipment.temperature_max_c)}"


def _storage_range(code: str, version: str) -> dict[str, Any]:
    """The protocol's storage temperatures as a shipment's range, to start the form with."""
    therapy = get_catalogue().therapy(code, version)
    window = therapy.storage.temperature_c if therapy and therapy.storage else None
    if window is None or window.min is None or window.max is None:
        return {}
    return {"temperature_min_c": window.min, "temperature_max_c": window.max}


# --- harvest at the clinic -----------------------------------------------------------------------------


def _harvest_hints(therapy) -> dict[str, Any]:
    """The form's first values from what the protocol harvests, and the time now."""
    now = timezone.localtime()
    hints: dict[str, Any] = {"collected_on": now.date(), "collected_time": now.time().replace(second=0)}
    if therapy is not None and therapy.harvest is not None:
        hints["body_site"] = therapy.harvest.where or ""
        hints["size"] = (therapy.harvest.what or "")[:60]
        if "punch" in (therapy.harvest.what or "").lower():
            hints["kind"] = Specimen.Kind.PUNCH_BIOPSY
    return hints


def _earliest_slot(plan, therapy) -> tuple[tuple | None, str]:
    """(slot start, ready from, ready to) at the clinic's lab from today, or None and why not."""
    lab = plan.site.lab
    try:
        return services.earliest_processing(lab=lab, therapy=therapy, wanted=timezone.localdate()), ""
    except InvalidInput as error:
        return None, "; ".join(item.message for item in error.errors) or error.detail


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def harvest(request, plan_id: int):
    """Record the harvest a plan waits for (or, with ?replaces=, a re-harvest under the same consent)."""
    user = request.user
    plan = plan_get_for_staff(user, plan_id)
    consent, patient = plan.consent, plan.patient
    therapy = get_catalogue().therapy(plan.therapy_code, plan.therapy_version)
    replaces = None
    wanted = request.POST.get("replaces") or request.GET.get("replaces")
    if wanted:
        replaces = (
            selectors.specimens_for(user).filter(
                pk=wanted if str(wanted).isdigit() else 0, chain__consent=consent
            )
        ).first()
        if replaces is None:
            raise Http404(selectors.NOT_FOUND)
    verdict = available.harvest(user, plan, therapy, replaces)
    if request.method == "GET" and not verdict.forbidden:
        record_read(request, plan, details={"page": "harvest"})  # the page names the patient
    slot, slot_problem = (None, "")
    aftercare: list[str] = []
    if verdict.allowed:
        slot, slot_problem = _earliest_slot(plan, therapy)
        aftercare = services.harvest_aftercare(therapy, plan.consultation.indication)
    form = lab_forms.HarvestForm(_post(request), initial=_harvest_hints(therapy))
    name = therapy_name(plan.therapy_code)
    page = Page(
        title="Record a re-harvest" if replaces else "Record the harvest",
        back=reverse("patients:detail", args=[patient.pk]) + "?section=plan",
        back_label=f"{patient.given_name} {patient.family_name.upper()}",
        button="Record the harvest",
        template="lab/actions/harvest.html",
        extra={
            "patient": patient,
            "therapy_name": name,
            "therapy": therapy,
            "replaces": replaces,
            "slot": slot,
            "slot_problem": slot_problem,
            "aftercare": aftercare,
        },
    )
    return _action(
        request,
        form=form,
        verdict=verdict,
        page=page,
        perform=lambda data: services.specimen_collect(
            actor=user, consent=consent, plan=plan, replaces=replaces, **data
        ),
        done=lambda specimen: (
            reverse("lab:specimen", args=[specimen.pk]),
            f"The harvest is recorded as specimen {specimen.coi}. Print its label, then pack it for the lab.",
        ),
        aliases={"collected_at": "collected_on"},
    )


# --- specimens -----------------------------------------------------------------------------------------


def _specimen(request, specimen_id: int) -> Specimen:
    return selectors.specimen_get(_reader(request), specimen_id)


def _specimen_page(specimen: Specimen, title: str, button: str, **options) -> Page:
    facts = [
        ("Specimen", f"{specimen.get_kind_display()}, {specimen.body_site}"),
        ("Chain of identity", specimen.coi),
        ("Status", capfirst(states.SPECIMEN_STATES.label(specimen.status))),
    ]
    return Page(
        about="About the specimen",
        title=title,
        back=reverse("lab:specimen", args=[specimen.pk]),
        back_label=f"Specimen {specimen.coi}",
        button=button,
        facts=facts,
        **options,
    )


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def specimen_pack(request, specimen_id: int):
    """Pack a collected specimen for the lab, in a box with its courier and temperature range."""
    specimen = _specimen(request, specimen_id)
    form = lab_forms.PackForm(
        _post(request), initial=_storage_range(specimen.therapy_code, specimen.therapy_version)
    )
    page = _specimen_page(
        specimen,
        "Pack the specimen for the lab",
        "Pack it",
        intro="The box keeps the range of temperatures the protocol stores the cells at.",
    )
    return _action(
        request,
        form=form,
        verdict=available.specimen_pack(request.user, specimen),
        page=page,
        perform=lambda data: services.shipment_pack(actor=request.user, specimens=[specimen], **data),
        done=lambda shipment: (
            reverse("lab:specimen", args=[specimen.pk]),
            f"Packed for {shipment.courier}. Hand the box to the courier when they come.",
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def specimen_dispose(request, specimen_id: int):
    specimen = _specimen(request, specimen_id)
    form = lab_forms.ReasonForm(_post(request), label="Why it is disposed of")
    page = _specimen_page(specimen, "Dispose of the specimen", "Record the disposal", danger=True)
    return _action(
        request,
        form=form,
        verdict=available.specimen_dispose(request.user, specimen),
        page=page,
        perform=lambda data: services.specimen_dispose(actor=request.user, specimen=specimen, **data),
        done=lambda _: (reverse("lab:specimen", args=[specimen.pk]), "The disposal is recorded."),
    )


# --- shipments -----------------------------------------------------------------------------------------


def _shipment(request, shipment_id: int) -> Shipment:
    shipment = (
        selectors.shipments_for(_reader(request)).select_related("site", "lab").filter(pk=shipment_id).first()
    )
    if shipment is None:
        raise Http404(selectors.NOT_FOUND)
    return shipment


def _contents(shipment: Shipment) -> tuple[list[Specimen], list[Product]]:
    if shipment.direction == Shipment.Direction.TO_LAB:
        return list(Specimen.objects.filter(shipment=shipment).order_by("id")), []
    return [], list(Product.objects.filter(shipment=shipment).order_by("batch_id", "dose_number", "id"))


def _first_item(specimens: list[Specimen], products: list[Product]) -> str:
    """The page of the shipment's first item, where its timeline shows what just happened."""
    if specimens:
        return reverse("lab:specimen", args=[specimens[0].pk])
    return reverse("lab:product", args=[products[0].din]) if products else reverse("lab:index")


def _shipment_page(shipment: Shipment, specimens, products, title: str, button: str, **options) -> Page:
    items = [f"Specimen {s.coi} ({s.get_kind_display().lower()})" for s in specimens] + [
        f"Product {p.din} (dose {p.dose_number})" for p in products
    ]
    facts = [
        ("From", shipment.site.name if specimens else shipment.lab.name),
        ("To", shipment.lab.name if specimens else shipment.site.name),
        ("Courier", shipment.courier + (f", tracking {shipment.tracking}" if shipment.tracking else "")),
        ("Temperature range", _range(shipment)),
        ("Status", capfirst(states.SHIPMENT_STATES.label(shipment.status))),
        ("Contents", "; ".join(items) or "nothing"),
    ]
    back = _first_item(specimens, products)
    label = items[0].split(" (")[0] if items else "Lab"
    return Page(
        about="About the box", title=title, back=back, back_label=label, button=button, facts=facts, **options
    )


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def shipment_dispatch(request, shipment_id: int):
    """Hand a packed shipment to its courier, at a temperature within its range."""
    shipment = _shipment(request, shipment_id)
    specimens, products = _contents(shipment)
    page = _shipment_page(
        shipment,
        specimens,
        products,
        "Hand the box to the courier",
        "Hand it over",
        intro=f"Read the box's temperature now: it must be within {_range(shipment)}.",
    )
    return _action(
        request,
        form=lab_forms.DispatchForm(_post(request)),
        verdict=available.shipment_dispatch(request.user, shipment),
        page=page,
        perform=lambda data: services.shipment_dispatch(actor=request.user, shipment=shipment, **data),
        done=lambda sent: (
            _first_item(specimens, products),
            f"Handed to {sent.courier}: on its way to {sent.lab.name if specimens else sent.site.name}.",
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def shipment_receive(request, shipment_id: int):
    """Record a shipment's arrival: the lab receives specimens, the clinic receives products."""
    shipment = _shipment(request, shipment_id)
    specimens, products = _contents(shipment)
    at_clinic = shipment.direction == Shipment.Direction.TO_CLINIC
    where = shipment.site.name if at_clinic else shipment.lab.name
    page = _shipment_page(
        shipment,
        specimens,
        products,
        f"Receive the box at {where}",
        "Record the arrival",
        intro=(
            f"Read the temperature as the box is opened; contents outside {_range(shipment)} cannot be "
            "accepted. "
            + (
                "A product not accepted is held in quarantine for the lab to decide."
                if at_clinic
                else "A specimen rejected is not processed."
            )
        ),
    )
    return _action(
        request,
        form=lab_forms.ReceiveForm(_post(request), at_clinic=at_clinic),
        verdict=available.shipment_receive(request.user, shipment),
        page=page,
        perform=lambda data: services.shipment_receive(actor=request.user, shipment=shipment, **data),
        done=lambda _: (_first_item(specimens, products), f"The arrival at {where} is recorded."),
    )


# --- batches -------------------------------------------------------------------------------------------


def _batch(request, batch_id: int) -> Batch:
    return selectors.batch_get(_reader(request), batch_id)


def _batch_page(batch: Batch, title: str, button: str, **options) -> Page:
    source = batch.coi or (f"donor lot {batch.donor_lot.lot_number}" if batch.donor_lot_id else "")
    facts = [
        ("Batch", batch.code),
        ("For", source),
        ("Therapy", f"{therapy_name(batch.therapy_code)} (protocol version {batch.therapy_version})"),
        ("Status", capfirst(states.BATCH_STATES.label(batch.status))),
    ]
    return Page(
        about="About the batch",
        title=title,
        back=reverse("lab:batch", args=[batch.pk]),
        back_label=f"Batch {batch.code}",
        button=button,
        facts=facts,
        **options,
    )


def _to_batch(message: str) -> Callable[[Any], tuple[str, str]]:
    return lambda batch: (
        reverse("lab:batch", args=[batch.pk if isinstance(batch, Batch) else batch.batch_id]),
        message,
    )


def _doses_of(therapy_code: str, therapy_version: str) -> int:
    therapy = get_catalogue().therapy(therapy_code, therapy_version)
    count = therapy.sessions.count if therapy is not None else None
    value = (count.value or count.max or count.min) if count is not None else None
    return int(value) if value else 1


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def batch_plan(request, specimen_id: int):
    """Book a batch for a received specimen in the lab's earliest free processing slot."""
    specimen = _specimen(request, specimen_id)
    batches = list(Batch.objects.filter(specimen=specimen))
    form = lab_forms.BatchPlanForm(
        _post(request), initial={"doses": _doses_of(specimen.therapy_code, specimen.therapy_version)}
    )
    page = _specimen_page(
        specimen,
        "Plan a batch",
        "Plan the batch",
        intro="The batch takes the earliest processing slot free for the protocol's whole processing time.",
    )
    return _action(
        request,
        form=form,
        verdict=available.batch_plan(request.user, specimen, batches),
        page=page,
        perform=lambda data: services.batch_plan(actor=request.user, specimen=specimen, **data),
        done=lambda batch: (
            reverse("lab:batch", args=[batch.pk]),
            f"Batch {batch.code} is planned: its slot starts {batch.slot_start:%-d %b %Y}.",
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def batch_start(request, batch_id: int):
    batch = _batch(request, batch_id)
    today = timezone.localdate()
    lots = [
        lot
        for lot in selectors.reagent_lots_for(request.user).filter(site_id=batch.lab_id)
        if lot.expires_on is None or lot.expires_on >= today
    ]
    form = lab_forms.BatchStartForm(_post(request), lots=lots)
    records = available.reagent_lot_create(request.user, [batch.lab_id]).allowed
    page = _batch_page(
        batch,
        "Start processing",
        "Start processing",
        intro="You become the batch's processor: someone else releases it."
        + ("" if lots else " No reagent lot in date is recorded at this lab."),
        template="lab/actions/batch_start.html",
        extra={
            "record_reagent": f"{reverse('lab:reagent_lot_create')}?batch={batch.pk}" if records else "",
        },
    )

    def start(data):
        chosen = [lot for lot in lots if lot.pk in set(data.get("reagent_lots") or ())]
        return services.batch_start(actor=request.user, batch=batch, reagent_lots=chosen)

    return _action(
        request,
        form=form,
        verdict=available.batch_start(request.user, batch),
        page=page,
        perform=start,
        done=_to_batch("Processing has started."),
    )


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def batch_step(request, batch_id: int):
    batch = _batch(request, batch_id)
    passages = [p for p in batch.steps.values_list("passage", flat=True) if p is not None]
    following = max(passages, default=0) + 1
    form = lab_forms.StepForm(_post(request), initial={"name": f"Passage {following}", "passage": following})
    page = _batch_page(batch, "Record a process step", "Record the step")
    return _action(
        request,
        form=form,
        verdict=available.batch_step(request.user, batch),
        page=page,
        perform=lambda data: services.process_step_record(actor=request.user, batch=batch, **data),
        done=lambda step: (reverse("lab:batch", args=[batch.pk]), f"{step.name} is recorded."),
    )


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def batch_deviation(request, batch_id: int):
    batch = _batch(request, batch_id)
    page = _batch_page(batch, "Record a deviation", "Record the deviation")
    return _action(
        request,
        form=lab_forms.DeviationForm(_post(request)),
        verdict=available.batch_deviation(request.user, batch),
        page=page,
        perform=lambda data: services.deviation_record(actor=request.user, batch=batch, **data),
        done=_to_batch("The deviation is recorded."),
    )


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def batch_fail(request, batch_id: int):
    batch = _batch(request, batch_id)
    form = lab_forms.ReasonForm(_post(request), label="Why the culture failed")
    page = _batch_page(
        batch,
        "Record a failed culture",
        "Record the failure",
        danger=True,
        intro="The specimen is used up. The clinic's practitioners are told, so that they can harvest again "
        "under the same consent and plan.",
    )
    return _action(
        request,
        form=form,
        verdict=available.batch_fail(request.user, batch),
        page=page,
        perform=lambda data: services.batch_fail(actor=request.user, batch=batch, **data),
        done=_to_batch("The failed culture is recorded and the clinic is told."),
    )


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def batch_cancel(request, batch_id: int):
    """Cancel a planned batch that will not be processed: its processing slot is freed."""
    batch = _batch(request, batch_id)
    form = lab_forms.ReasonForm(_post(request), label="Why it is cancelled")
    source = (
        "the specimen stays at the lab, where another batch can be planned for it."
        if batch.specimen_id
        else "its doses go back to the donor lot."
    )
    page = _batch_page(
        batch,
        "Cancel the batch",
        "Record the cancellation",
        danger=True,
        intro=f"The batch will not be processed. Its processing slot is freed, and {source}",
    )
    return _action(
        request,
        form=form,
        verdict=available.batch_cancel(request.user, batch),
        page=page,
        perform=lambda data: services.batch_cancel(actor=request.user, batch=batch, **data),
        done=_to_batch(f"Batch {batch.code} is cancelled."),
    )


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def batch_finish(request, batch_id: int):
    batch = _batch(request, batch_id)
    form = lab_forms.FinishForm(
        _post(request), initial={"doses_made": batch.doses_planned, "banked_vials": 0}
    )
    page = _batch_page(
        batch,
        "Finish processing",
        "Finish processing",
        intro=f"Each dose becomes a product with its own DIN, waiting for QC and release. "
        f"{batch.doses_planned} dose{'s were' if batch.doses_planned != 1 else ' was'} planned.",
    )
    return _action(
        request,
        form=form,
        verdict=available.batch_finish(request.user, batch),
        page=page,
        perform=lambda data: services.batch_finish_processing(actor=request.user, batch=batch, **data),
        done=_to_batch("Processing is finished: enter the QC results."),
    )


# --- QC ------------------------------------------------------------------------------------------------


@dataclass
class QCRow:
    """One release criterion on the QC page: its line as judged, its unit and a hint at the result it
    takes, the form when a result is due and the address that corrects a result entered."""

    index: int
    line: Any
    unit: str
    hint: str
    numeric: bool
    form: lab_forms.QCResultForm | None
    correct: str = ""


def _criteria(batch: Batch) -> dict[str, release.Criterion]:
    """The release criteria of the batch's protocol version by test, in the protocol's order."""
    therapy = get_catalogue().therapy(batch.therapy_code, batch.therapy_version)
    found: dict[str, release.Criterion] = {}
    for item in therapy.release_criteria if therapy is not None else ():
        try:
            criterion = release.criterion_from(item)
        except ValueError:
            continue
        found[criterion.test] = criterion
    return found


def _hint(criterion: release.Criterion | None) -> str:
    if criterion is None:
        return ""
    if criterion.is_numeric:
        return f"A number{f' in {criterion.unit}' if criterion.unit else ''}."
    return f"It passes when it reads “{release.accepted_answer(criterion)}”."


def _qc_rows(batch: Batch, *, entering: bool, correcting: bool, posted: lab_forms.QCResultForm | None):
    """Each line of the batch's QC (views.qc_lines) as a row of the QC page."""
    results = list(batch.qc_results.select_related("entered_by").order_by("entered_at", "id"))
    lines, _found = qc_lines(batch, results)
    criteria = _criteria(batch)
    rows = []
    for index, line in enumerate(lines, start=1):
        criterion = criteria.get(line.test)
        unit = (criterion.unit or "") if criterion is not None else ""
        form = None
        if entering and line.result is None and line.listed:
            if posted is not None and posted.data.get("test") == line.test:
                form = posted
            else:
                initial = {"test": line.test, "unit": unit}
                form = lab_forms.QCResultForm(initial=initial, auto_id=f"qc{index}-%s")
        correct = ""
        if correcting and line.result is not None:
            correct = reverse("lab:qc_correct", args=[line.result.pk])
        numeric = criterion is not None and criterion.is_numeric
        rows.append(QCRow(index, line, unit, _hint(criterion), numeric, form, correct))
    return rows


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def batch_qc(request, batch_id: int):
    """The release criteria of the batch's protocol, each with its limit and unit; a result entered for
    one of them is judged at once (one service call a result), and the page shows it passed or failed."""
    user = request.user
    batch = _batch(request, batch_id)
    verdict = available.qc_enter(user, batch)
    posted = None
    status = 200
    if request.method == "POST":
        test = request.POST.get("test", "")
        position = next((n for n, name in enumerate(_criteria(batch), start=1) if name == test), 0)
        posted = lab_forms.QCResultForm(request.POST, auto_id=f"qc{position}-%s")
        answer, status = _perform(
            request,
            posted,
            lambda data: services.qc_result_enter(actor=user, batch=batch, **data),
        )
        if answer is not _UNDONE:
            judged = states.QC_RESULT_STATES.label(answer.status)
            outcome = "pass" if answer.status == states.QC_PASSED else "fail"
            reading = release.quantity(answer.value, answer.unit or None)
            messages.success(request, f"{answer.test}: {reading} is {judged} ({outcome}).")
            return redirect(reverse("lab:batch_qc", args=[batch.pk]))
        batch.refresh_from_db(fields=["status"])
    elif verdict.forbidden:
        raise Forbidden(verdict.forbidden)
    correcting = available.qc_correct(user, batch).allowed
    rows = _qc_rows(batch, entering=verdict.allowed, correcting=correcting, posted=posted)
    context = {
        "nav_active": "lab",
        "batch": batch,
        "rows": rows,
        "not_now": "" if verdict.allowed else verdict.not_now,
        "status": states.BATCH_STATES.label(batch.status),
        "complete": batch.status == states.BATCH_AWAITING_RELEASE,
        "top_errors": posted.non_field_errors() if posted is not None else [],
        "nothing_changed": NOTHING_CHANGED,
    }
    return render(request, "lab/actions/qc.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def qc_correct(request, result_id: int):
    """Correct a QC result: the earlier one stays on record, marked corrected with the reason."""
    user = _reader(request)
    result = (
        QCResult.objects.filter(pk=result_id, batch__in=selectors.batches_for(user))
        .select_related("batch")
        .first()
    )
    if result is None:
        raise Http404(selectors.NOT_FOUND)
    batch = selectors.batch_get(user, result.batch_id)
    verdict = available.qc_correct(user, batch)
    if result.status not in services.CURRENT_QC and verdict.allowed:
        label = states.QC_RESULT_STATES.label(result.status)
        verdict = available.not_now(services.RESULT_NOT_CURRENT.format(status=label))
    form = lab_forms.QCCorrectForm(_post(request), initial={"unit": result.unit})
    page = _batch_page(batch, f"Correct the result for {result.test}", "Correct the result")
    page.facts += [
        ("Result on record", release.quantity(result.value, result.unit or None)),
        ("Limit", result.limit),
    ]
    return _action(
        request,
        form=form,
        verdict=verdict,
        page=page,
        perform=lambda data: services.qc_result_correct(actor=user, result=result, **data),
        done=lambda new: (
            reverse("lab:batch_qc", args=[batch.pk]),
            f"{new.test} is corrected: {release.quantity(new.value, new.unit or None)} is "
            f"{states.QC_RESULT_STATES.label(new.status)}.",
        ),
    )


# --- the QA decision -----------------------------------------------------------------------------------


def _decision_context(batch: Batch) -> tuple[list, list[Product], list[str]]:
    """The batch's criteria as judged, its products, and each line's outcome: what the reviewer signs."""
    results = list(batch.qc_results.select_related("entered_by").order_by("entered_at", "id"))
    lines, _found = qc_lines(batch, results)
    products = list(batch.products.order_by("dose_number", "id"))
    return lines, products, [line.outcome for line in lines if line.listed]


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def batch_release(request, batch_id: int):
    """Release a batch with the QA reviewer's electronic signature, meaning: released."""
    user = request.user
    batch = _batch(request, batch_id)
    lines, products, outcomes = _decision_context(batch)
    verdict = available.batch_release(user, batch, outcomes=outcomes, products=products)
    page = _batch_page(
        batch,
        "Release the batch",
        "Sign and release",
        meaning=RELEASED_MEANING,
        statement=services.RELEASE_STATEMENT,
        template="lab/actions/decision.html",
        extra={"lines": lines, "products": products},
    )
    return _action(
        request,
        form=lab_forms.SignForm(_post(request)),
        verdict=verdict,
        page=page,
        perform=lambda data: services.batch_release(actor=user, batch=batch, **data),
        done=_to_batch(f"Batch {batch.code} is released, signed by {user.display_name}."),
        signs=True,
    )


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def batch_reject(request, batch_id: int):
    """Reject a batch waiting for release, with the reason and the reviewer's signature."""
    user = request.user
    batch = _batch(request, batch_id)
    lines, products, _outcomes = _decision_context(batch)
    page = _batch_page(
        batch,
        "Reject the batch",
        "Sign and reject",
        danger=True,
        meaning=REJECTED_MEANING,
        statement="Its products are rejected for good and can never be released.",
        template="lab/actions/decision.html",
        extra={"lines": lines, "products": products},
    )
    return _action(
        request,
        form=lab_forms.ReasonSignForm(_post(request)),
        verdict=available.batch_reject(user, batch),
        page=page,
        perform=lambda data: services.batch_reject(actor=user, batch=batch, **data),
        done=_to_batch(f"Batch {batch.code} is rejected."),
        signs=True,
    )


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def batch_ship(request, batch_id: int):
    """Pack the batch's released products for the clinic (donor products: the clinic chosen)."""
    user = request.user
    batch = _batch(request, batch_id)
    products = list(batch.products.order_by("dose_number", "id"))
    ready = available.to_pack(products)
    donor = batch.site_id == batch.lab_id
    clinics = (
        list(Site.objects.filter(kind=Site.Kind.CLINIC, lab_id=batch.lab_id).order_by("name"))
        if donor
        else []
    )
    form = lab_forms.ProductPackForm(
        _post(request),
        products=ready,
        clinics=clinics,
        initial=_storage_range(batch.therapy_code, batch.therapy_version),
    )
    page = _batch_page(
        batch,
        "Pack products for the clinic",
        "Pack them",
        intro=("" if donor else f"For {batch.site.name}. ")
        + "The box keeps the temperature range the protocol stores the product at.",
    )

    def pack(data):
        wanted = set(data.pop("products"))
        chosen = [p for p in ready if str(p.pk) in wanted]
        clinic_id = data.pop("clinic", None)
        clinic = next((c for c in clinics if c.pk == clinic_id), None)
        return services.shipment_pack(actor=user, products=chosen, clinic=clinic, **data)

    return _action(
        request,
        form=form,
        verdict=available.batch_ship(user, batch, products),
        page=page,
        perform=pack,
        done=lambda shipment: (
            reverse("lab:batch", args=[batch.pk]),
            f"Packed for {shipment.courier}. Hand the box to the courier when they come.",
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def banked_cells_dispose(request, batch_id: int):
    """Record that the cells a batch kept frozen were disposed of."""
    batch = _batch(request, batch_id)
    form = lab_forms.ReasonForm(
        _post(request),
        label="Why they are disposed of",
        help_text="For example: the storage consent has ended, or the patient withdrew their consent.",
    )
    page = _batch_page(batch, "Dispose of the banked cells", "Record the disposal", danger=True)
    if batch.banked_vials:
        until = f", kept until {batch.banked_until:%-d %b %Y}" if batch.banked_until else ""
        vials = f"{batch.banked_vials} vial{'s' if batch.banked_vials != 1 else ''}"
        page.facts.append(("Banked cells", vials + until))
    return _action(
        request,
        form=form,
        verdict=available.banked_cells_dispose(request.user, batch),
        page=page,
        perform=lambda data: services.banked_cells_dispose(actor=request.user, batch=batch, **data),
        done=_to_batch("The disposal of the banked cells is recorded."),
    )


# --- products ------------------------------------------------------------------------------------------


def _product(request, din: str) -> Product:
    return selectors.product_get(_reader(request), din)


def _product_page(product: Product, title: str, button: str, **options) -> Page:
    facts = [
        ("Product", f"{product.din} (dose {product.dose_number})"),
        ("Therapy", therapy_name(product.therapy_code)),
        ("Status", capfirst(states.PRODUCT_STATES.label(product.status))),
    ]
    return Page(
        about="About the product",
        title=title,
        back=reverse("lab:product", args=[product.din]),
        back_label=f"Product {product.din}",
        button=button,
        facts=facts,
        **options,
    )


def _to_product(message: str) -> Callable[[Any], tuple[str, str]]:
    return lambda product: (reverse("lab:product", args=[product.din]), message)


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def product_quarantine(request, din: str):
    product = _product(request, din)
    form = lab_forms.ReasonForm(_post(request), label="Why it is held")
    page = _product_page(product, "Hold the product in quarantine", "Quarantine it", danger=True)
    return _action(
        request,
        form=form,
        verdict=available.product_quarantine(request.user, product),
        page=page,
        perform=lambda data: services.product_quarantine(actor=request.user, product=product, **data),
        done=_to_product("The product is held in quarantine."),
    )


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def product_unquarantine(request, din: str):
    """Release a quarantined product again, signed by a QA reviewer (meaning: released)."""
    product = _product(request, din)
    page = _product_page(
        product,
        "Release the product from quarantine",
        "Sign and release",
        meaning=RELEASED_MEANING,
        statement="I release this product from quarantine for the reason given.",
    )
    return _action(
        request,
        form=lab_forms.ReasonSignForm(_post(request)),
        verdict=available.product_release_from_quarantine(request.user, product),
        page=page,
        perform=lambda data: services.product_release_from_quarantine(
            actor=request.user, product=product, **data
        ),
        done=_to_product("The product is released from quarantine."),
        signs=True,
    )


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def product_recall(request, din: str):
    product = _product(request, din)
    form = lab_forms.ReasonForm(_post(request), label="Why it is recalled")
    page = _product_page(
        product,
        "Recall the product",
        "Recall it",
        danger=True,
        intro="The clinic's practitioners and nurses are told at once not to administer it.",
    )
    return _action(
        request,
        form=form,
        verdict=available.product_recall(request.user, product),
        page=page,
        perform=lambda data: services.product_recall(actor=request.user, product=product, **data),
        done=_to_product("The product is recalled and the clinic is told."),
    )


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def product_dispose(request, din: str):
    product = _product(request, din)
    form = lab_forms.ReasonForm(_post(request), label="Why it is disposed of")
    page = _product_page(product, "Dispose of the product", "Record the disposal", danger=True)
    return _action(
        request,
        form=form,
        verdict=available.product_dispose(request.user, product),
        page=page,
        perform=lambda data: services.product_dispose(actor=request.user, product=product, **data),
        done=_to_product("The disposal is recorded."),
    )


# --- products past their expiry -----------------------------------------------------------------------


@dataclass(frozen=True)
class PastExpiry:
    """A product past its expiry as the page lists it: its DIN, what it is now and where it is."""

    product: Product
    din: Din | None
    status: str
    where: str


def _where(product: Product) -> str:
    if product.status == states.PRODUCT_RELEASED:
        return product.lab.name
    if product.status == states.PRODUCT_SHIPPED:
        return f"With the courier, for {product.site.name}"
    return product.site.name


def _past_expiry(user: User) -> tuple[list[PastExpiry], int]:
    """The first page of the products past their expiry in USER's care, the longest expired first, and
    how many there are in all: one query."""
    found = list(
        selectors.past_expiry(user, timezone.now())
        .select_related("site", "lab")
        .annotate(total=Window(Count("pk")))
        .order_by("expires_at", "pk")[:PAGE_SIZE]
    )
    rows = [
        PastExpiry(p, din_of(p), capfirst(states.PRODUCT_STATES.label(p.status)), _where(p)) for p in found
    ]
    return rows, found[0].total if found else 0


def _expired_message(count: int) -> str:
    if count == 1:
        return "1 product past its expiry is marked expired."
    return f"{count} products past their expiry are marked expired."


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def products_expire(request):
    """Take out of use every product past its expiry in the reader's care: lab technicians and QA
    reviewers their lab's products released, on their way or received; practitioners and nurses those
    received at their clinic. Each is marked expired, on its custody timeline and in the audit trail."""
    user = _reader(request)
    # A POST is the service's to judge, under its locks: the list is read for the page alone.
    rows, total = _past_expiry(user) if request.method == "GET" else ([], 0)
    page = Page(
        title="Take expired products out of use",
        back=reverse("lab:index"),
        back_label="Lab",
        button="Take them out of use",
        intro="Each product past its expiry is marked expired, with an entry on its custody timeline. "
        "It can then only be disposed of.",
        danger=True,
        template="lab/actions/products_expire.html",
        extra={"rows": rows, "total": total},
    )

    def expire(_data) -> int:
        count = services.product_expire(actor=user)
        if not count:
            raise InvalidInput.single("products", available.NOTHING_PAST_EXPIRY)
        return count

    return _action(
        request,
        form=lab_forms.ConfirmForm(_post(request)),
        verdict=available.products_expire(user, total),
        page=page,
        perform=expire,
        done=lambda count: (reverse("lab:index"), _expired_message(count)),
    )


# --- donor lots ----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def donor_lot_eligibility(request, lot_id: int):
    """Document a donor lot's eligibility (QA), once every donor test is recorded and negative."""
    user = request.user
    lot = _donor_lot(request, lot_id)
    page = Page(
        about="About the lot",
        title="Document donor eligibility",
        back=reverse("lab:donor_lot", args=[lot.pk]),
        back_label=f"Donor lot {lot.lot_number}",
        button="Document eligibility",
        intro="Every donor test is recorded and negative, and the lot is unexpired: products made from it "
        "may then be released.",
        facts=_lot_facts(lot),
    )
    return _action(
        request,
        form=lab_forms.ConfirmForm(_post(request)),
        verdict=available.donor_lot_eligibility(user, lot),
        page=page,
        perform=lambda data: services.donor_lot_document_eligibility(actor=user, lot=lot),
        done=lambda done: (reverse("lab:donor_lot", args=[done.pk]), "Donor eligibility is documented."),
    )


def _donor_lot(request, lot_id: int, *related: str) -> DonorLot:
    """A donor lot of the reader's lab; anyone else gets the answer a missing page gets."""
    user = _reader(request)
    lot = selectors.donor_lots_for(user).select_related("site", *related).filter(pk=lot_id).first()
    if lot is None:
        raise Http404(selectors.NOT_FOUND)
    return lot


def _lot_facts(lot: DonorLot) -> list[tuple[str, str]]:
    return [
        ("Lot", lot.lot_number),
        ("Therapy", therapy_name(lot.therapy_code)),
        ("Expires", f"{lot.expires_on:%-d %b %Y}"),
    ]


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def donor_lot_screening(request, lot_id: int):
    """Record donor test results that came after the lot was recorded (NAT results often come later),
    or replace one, while donor eligibility is not documented."""
    user = request.user
    lot = _donor_lot(request, lot_id)
    page = Page(
        about="About the lot",
        title="Record screening results",
        back=reverse("lab:donor_lot", args=[lot.pk]),
        back_label=f"Donor lot {lot.lot_number}",
        button="Record the results",
        facts=_lot_facts(lot),
        template="lab/actions/donor_lot_screening.html",
        extra={"recorded": screening_table(lot.screening)},
    )

    def done(saved: DonorLot) -> tuple[str, str]:
        message = "The screening results are recorded."
        if not eligibility_problems(saved.screening):
            message += (
                " Every donor test now has a negative result: a QA reviewer can document donor eligibility."
            )
        return reverse("lab:donor_lot", args=[saved.pk]), message

    return _action(
        request,
        form=lab_forms.DonorScreeningForm(_post(request), recorded=lot.screening),
        verdict=available.donor_lot_screening(user, lot),
        page=page,
        perform=lambda data: services.donor_lot_screening_record(actor=user, lot=lot, **data),
        done=done,
    )


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def donor_lot_plan_batch(request, lot_id: int):
    """Book a batch of a donor lot's cells in the lab's earliest free processing slot."""
    user = request.user
    lot = _donor_lot(request, lot_id, "site__lab_profile")
    batches = list(lot.batches.only("donor_lot_id", "status", "doses_planned"))
    left = available.doses_left(lot, batches)
    verdict = available.batch_plan_from_lot(user, lot, batches, ready=available.lab_ready(lot))
    therapy = get_catalogue().therapies.get(lot.therapy_code)
    slot = None
    if verdict.allowed:
        slot = services.earliest_processing(lab=lot.site, therapy=therapy, wanted=timezone.localdate())
    doses = min(_doses_of(therapy.code, therapy.version), left) if therapy is not None else 1
    page = Page(
        about="About the lot",
        title="Plan a batch",
        back=reverse("lab:donor_lot", args=[lot.pk]),
        back_label=f"Donor lot {lot.lot_number}",
        button="Plan the batch",
        intro="The batch takes the earliest processing slot free for the protocol's whole processing time.",
        facts=[*_lot_facts(lot), ("Doses left", f"{max(left, 0)} of {lot.quantity}")],
        template="lab/actions/batch_plan_lot.html",
        extra={"slot": slot, "eligible": lot.eligible},
    )
    return _action(
        request,
        form=lab_forms.BatchPlanForm(_post(request), initial={"doses": max(doses, 1)}),
        verdict=verdict,
        page=page,
        perform=lambda data: services.batch_plan(actor=user, donor_lot=lot, **data),
        done=lambda batch: (
            reverse("lab:batch", args=[batch.pk]),
            f"Batch {batch.code} is planned: its slot starts {batch.slot_start:%-d %b %Y}.",
        ),
    )


# --- recording reagent and donor lots ------------------------------------------------------------------


def _lab_staff(request) -> set[int]:
    """The labs the reader works at; anyone who works at none gets the answer a missing page gets."""
    labs = staff_site_ids(request.user, Permission.LAB_VIEW)
    if not labs:
        raise Http404(selectors.NOT_FOUND)
    return labs


def _lot_labs(request) -> list[Site]:
    """The labs where the reader records lots; holding that nowhere, the labs they work at (where the
    service says why not)."""
    ids = available.recording_labs(request.user) or _lab_staff(request)
    labs = list(Site.objects.filter(pk__in=ids, kind=Site.Kind.LAB).order_by("name", "id"))
    if not labs:
        raise Http404(selectors.NOT_FOUND)
    return labs


def _for_lab(labs: list[Site]) -> str:
    return f"For {labs[0].name}. " if len(labs) == 1 else ""


def _starting(request) -> Batch | None:
    """The batch whose start page (?batch=) sent the reader to record a reagent lot, or None."""
    wanted = request.GET.get("batch")
    if not wanted:
        return None
    if not wanted.isdigit():
        raise Http404(selectors.NOT_FOUND)
    return _batch(request, int(wanted))


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def reagent_lot_create(request):
    """Record a lot of a reagent or medium; from a batch's start page, back to it to choose the lot."""
    user = request.user
    _lab_staff(request)
    batch = _starting(request)
    labs = [batch.lab] if batch is not None else _lot_labs(request)
    if batch is not None:
        back, back_label = (
            reverse("lab:batch_start", args=[batch.pk]),
            f"Batch {batch.code}: start processing",
        )
    else:
        back, back_label = reverse("lab:reagent_lots"), "Reagent lots"
    page = Page(
        title="Record a reagent lot",
        back=back,
        back_label=back_label,
        button="Record the lot",
        intro=_for_lab(labs)
        + "Each lot chosen when processing starts is traced to every product it touches.",
    )
    return _action(
        request,
        form=lab_forms.ReagentLotForm(_post(request), labs=labs),
        verdict=available.reagent_lot_create(user, [lab.pk for lab in labs]),
        page=page,
        perform=lambda data: services.reagent_lot_create(actor=user, **data),
        done=lambda lot: (back, f"{lot} is recorded."),
    )


@login_required
@require_http_methods(["GET", "POST"])
@_says_why
def donor_lot_create(request):
    """Record a lot of donor cells with its donor screening results as far as they are known."""
    user = request.user
    labs = _lot_labs(request)
    page = Page(
        title="Record a donor lot",
        back=reverse("lab:donor_lots"),
        back_label="Donor lots",
        button="Record the lot",
        intro=_for_lab(labs) + "No product made from the lot is released until a QA reviewer has "
        "documented donor eligibility: every donor test recorded and negative, and the lot unexpired.",
        template="lab/actions/donor_lot.html",
    )
    form = lab_forms.DonorLotForm(_post(request), labs=labs, therapies=available.donor_therapies())
    return _action(
        request,
        form=form,
        verdict=available.donor_lot_create(user, [lab.pk for lab in labs]),
        page=page,
        perform=lambda data: services.donor_lot_create(actor=user, **data),
        done=lambda lot: (
            reverse("lab:donor_lot", args=[lot.pk]),
            f"Donor lot {lot.lot_number} is recorded.",
        ),
    )


# --- the bedside ---------------------------------------------------------------------------------------


def _bedside_user(request) -> User:
    """Clinic staff who give products to the patients they see; anyone else: as a missing page."""
    if not available.administering_sites(request.user):
        raise Http404(selectors.NOT_FOUND)
    return request.user


@login_required
@require_http_methods(["GET", "POST"])
def bedside(request):
    """Scan (or type) the patient's MRN, then the product's DIN: the check is recorded, passed or not."""
    user = _bedside_user(request)
    status, prompt = 200, ""
    if request.method == "POST":
        form = lab_forms.BedsideForm(request.POST)
        if form.half_scanned():
            # A scanner ends the wristband with Enter: keep the MRN and wait for the DIN.
            form = lab_forms.BedsideForm(initial={"mrn": request.POST["mrn"]}, focus="din")
            prompt = NOW_SCAN_THE_DIN
        elif form.is_valid():
            data = form.cleaned_data
            try:
                check, _result = administration.bedside_check(actor=user, mrn=data["mrn"], din=data["din"])
            except InvalidInput as error:
                add_service_errors(form, error)
                status = 422
            except NotFound:
                form.add_error("mrn", NO_PATIENT)
                status = 404
            else:
                return redirect(reverse("lab:bedside_check", args=[check.pk]))
        else:
            status = 422
    else:
        form = lab_forms.BedsideForm()
    context = {"nav_active": "lab", "form": form, "prompt": prompt, "nothing_changed": "Nothing was checked."}
    return render(request, "lab/actions/bedside.html", context, status=status)


def _check_context(check: BedsideCheck, verdict: Verdict) -> dict:
    product = check.product
    return {
        "nav_active": "lab",
        "check": check,
        "patient": check.patient,
        "product": product,
        "din": din_of(product) if product else None,
        "therapy_name": therapy_name(product.therapy_code) if product else "",
        "product_status": states.PRODUCT_STATES.label(product.status) if product else "",
        "reasons": [reason.get("text", "") for reason in check.reasons],
        "stop": administration.STOP,
        "verdict": verdict,
    }


def _check(request, check_id: int) -> BedsideCheck:
    """A bedside check at a clinic where the reader gives products; 404 otherwise."""
    user = _bedside_user(request)
    check = (
        selectors.bedside_checks_for(user)
        .select_related("site", "patient", "product", "checked_by")
        .filter(pk=check_id)
        .first()
    )
    if check is None:
        raise Http404(selectors.NOT_FOUND)
    return check


@login_required
@require_http_methods(["GET"])
def bedside_check(request, check_id: int):
    """A recorded check: a large PASS with the product and "Record administration", or a HARD STOP
    naming each reason."""
    check = _check(request, check_id)
    verdict = available.administration(request.user, check)
    record_read(request, check)  # the page names the patient
    return render(request, "lab/actions/bedside_check.html", _check_context(check, verdict))


@login_required
@require_POST
def bedside_administer(request, check_id: int):
    """Record the administration on a passed check: the product is checked again under its row lock."""
    check = _check(request, check_id)
    try:
        product = administration.product_administer(actor=request.user, check=check)
    except InvalidInput as error:
        check = _check(request, check_id)  # read again: the product may have changed meanwhile
        context = _check_context(check, available.administration(request.user, check))
        # Each refusal reads "code: text"; the page shows the text.
        context["errors"] = [item.message.split(": ", 1)[-1] for item in error.errors]
        return render(request, "lab/actions/bedside_check.html", context, status=422)
    patient = check.patient
    when = timezone.localtime(product.administered_at)
    messages.success(
        request,
        f"The administration of {product.din} to {patient.given_name} {patient.family_name.upper()} "
        f"is recorded at {when:%H:%M}.",
    )
    return redirect(reverse("lab:product", args=[product.din]))
