"""Registry pages for clinic staff, and the patient's own record in the portal."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms.models import model_to_dict
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template import Context
from django.template.loader import get_template
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST

from cellclinic.accounts.access import has_permission, require_permission
from cellclinic.accounts.forms import PortalAccountForm
from cellclinic.accounts.models import Site
from cellclinic.accounts.roles import Permission
from cellclinic.accounts.throttle import with_password_entry
from cellclinic.audit.selectors import action_label, patient_recent_events, signatures_of
from cellclinic.audit.services import record_hash, record_read, record_search
from cellclinic.catalogue.vocabulary import ALLERGY_ITEMS, HISTORY_ITEMS
from cellclinic.core import plugs
from cellclinic.core.errors import InvalidInput
from cellclinic.core.forms import add_service_errors
from cellclinic.core.htmx import render_page_or_partial, wants_partial
from cellclinic.core.pagination import paginate
from cellclinic.patients.forms import SEARCH_LABEL, PatientForm, SignReviewForm
from cellclinic.patients.models import Patient
from cellclinic.patients.selectors import patient_get_for_user, patient_search
from cellclinic.patients.services import (
    CANNOT_SIGN,
    EDITABLE_FIELDS,
    patient_create,
    patient_history_review_sign,
    patient_portal_account_create,
    patient_review_record,
    patient_update,
    patient_version,
    portal_username_base,
)

RECENT_EVENTS = 10
RECENT_SIGNATURES = 10


def _staff_patient(request, pk: int, *, write: bool = False) -> Patient:
    """The patient for a staff page; 404 for portal users, missing records and other clinics alike."""
    require_permission(request.user, Permission.PATIENT_EDIT if write else Permission.PATIENT_VIEW)
    return patient_get_for_user(request.user, pk, write=write)


def _editable_clinics(user) -> list[Site]:
    """The clinics where USER may register patients, or 404 when there are none."""
    site_ids = require_permission(user, Permission.PATIENT_EDIT)
    clinics = list(Site.objects.filter(pk__in=site_ids, kind=Site.Kind.CLINIC).order_by("name"))
    if not clinics:
        raise Http404("Not found")
    return clinics


@login_required
def patient_list(request):
    """All patients the user may see, searchable; htmx asks for the table only."""
    require_permission(request.user, Permission.PATIENT_VIEW)
    query = request.GET.get("q", "").strip()[:200]
    window = paginate(request, patient_search(request.user, query))
    record_search(request, "patient")
    context = {
        "nav_active": "patients",
        "window": window,
        "patients": window.page.object_list,
        "q": query,
        "search_label": SEARCH_LABEL,
        "can_register": has_permission(request.user, Permission.PATIENT_EDIT),
    }
    return render_page_or_partial(request, "patients/list.html", "patients/_table.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def patient_create_view(request):
    """Register a patient; the site is asked for only when the user works at several clinics."""
    clinics = _editable_clinics(request.user)
    form = PatientForm(request.POST or None, clinics=clinics)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            site = form.cleaned_data.get("site") or clinics[0]
            try:
                patient = patient_create(site=site, actor=request.user, data=form.service_data())
            except InvalidInput as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{patient.full_name} is registered with MRN {patient.mrn}.")
                return redirect("patients:detail", pk=patient.pk)
        status = 422
    context = {"nav_active": "patients", "form": form, "clinics": clinics}
    return render(request, "patients/form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit(request, pk: int):
    """Correct a patient's record, with the reason; only the changed fields are written."""
    patient = _staff_patient(request, pk, write=True)
    # The form gets its own initial values, so a rejected post does not alter the page's header.
    initial = {**model_to_dict(patient, fields=EDITABLE_FIELDS), "version": patient_version(patient)}
    form = PatientForm(request.POST or None, initial=initial, with_reason=True)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                updated = patient_update(
                    patient=patient,
                    actor=request.user,
                    data=form.service_data(),
                    reason=form.cleaned_data["reason"],
                    expected_version=form.cleaned_data["version"] or None,
                )
            except InvalidInput as error:
                add_service_errors(form, error)
            else:
                if updated.updated_at == patient.updated_at:
                    messages.info(request, "Nothing was changed.")
                else:
                    messages.success(request, "The record is updated.")
                return redirect("patients:detail", pk=patient.pk)
        status = 422
    context = {"nav_active": "patients", "form": form, "patient": patient}
    return render(request, "patients/form.html", context, status=status)


def _portal_form(patient: Patient, data=None) -> PortalAccountForm:
    """The chart holds several forms; the prefix keeps this one's fields apart from the signing password."""
    suggestion = portal_username_base(patient.given_name, patient.family_name)
    return PortalAccountForm(data, prefix="portal", suggestion=suggestion)


# The chart's sections, in the order of its tabs. The patients app fills overview, record and history
# itself; the others are filled by the panels later stages register in slot "chart" with that section.
CHART_SECTIONS: tuple[tuple[str, str], ...] = (
    ("overview", "Overview"),
    ("consultations", "Consultations"),
    ("consents", "Consent"),
    ("plan", "Treatment plan"),
    ("photos", "Photos"),
    ("record", "Contact and record"),
    ("history", "History"),
)
OWN_SECTIONS = frozenset({"overview", "record", "history"})
FIRST_SECTION = CHART_SECTIONS[0][0]
UNKNOWN_SECTION = "The chart has no section of that name."


def _chart_tabs() -> list[tuple[str, str]]:
    """The sections with something in them: the chart's own, and those later stages registered panels in."""
    registered = plugs.sections_in("chart")
    return [(name, label) for name, label in CHART_SECTIONS if name in OWN_SECTIONS or name in registered]


def _section_named(name: str) -> str:
    """NAME when the chart has that section, else 404."""
    if name not in {tab for tab, _ in _chart_tabs()}:
        raise Http404(UNKNOWN_SECTION)
    return name


def chart_alerts(patient: Patient) -> list[tuple[str, str]]:
    """(kind, label) of each screening answer that matters for treatment: history first, then allergies."""
    history = set(patient.history)
    allergies = set(patient.allergies)
    return [("history", item.label) for item in HISTORY_ITEMS if item.code in history] + [
        ("allergy", item.label) for item in ALLERGY_ITEMS if item.code in allergies
    ]


def _section_context(
    request,
    patient: Patient,
    section: str,
    sign_form: SignReviewForm | None,
    portal_form: PortalAccountForm | None,
) -> dict:
    """What SECTION shows, and nothing more: the other sections compute nothing."""
    context: dict = {"panels": plugs.panel_contexts("chart", request, patient, section=section)}
    if section == "overview":
        history = set(patient.history)
        allergies = set(patient.allergies)
        context["history_items"] = [item for item in HISTORY_ITEMS if item.code in history]
        context["allergy_items"] = [item for item in ALLERGY_ITEMS if item.code in allergies]
    elif section == "record":
        can_edit = has_permission(request.user, Permission.PATIENT_EDIT, patient.site_id)
        context["portal_form"] = (
            (portal_form or _portal_form(patient)) if can_edit and patient.portal_user_id is None else None
        )
    elif section == "history":
        # One more than shown, to know whether to say there are more.
        signatures = signatures_of("patient", patient.pk, limit=RECENT_SIGNATURES + 1)
        events = patient_recent_events(patient.pk, limit=RECENT_EVENTS + 1)
        current_hash = record_hash(patient_review_record(patient))
        can_sign = has_permission(request.user, Permission.PATIENT_SIGN, patient.site_id)
        context.update(
            {
                "signatures": [(s, s.record_hash == current_hash) for s in signatures[:RECENT_SIGNATURES]],
                "more_signatures": len(signatures) > RECENT_SIGNATURES,
                "events": [
                    (
                        event,
                        action_label(event.action),
                        sorted(event.after) if event.action == "patient.update" and event.after else [],
                    )
                    for event in events[:RECENT_EVENTS]
                ],
                "more_events": len(events) > RECENT_EVENTS,
                "can_sign": can_sign,
                "sign_form": (sign_form or SignReviewForm()) if can_sign else None,
            }
        )
    return context


def _chart_context(
    request,
    patient: Patient,
    section: str = FIRST_SECTION,
    *,
    sign_form: SignReviewForm | None = None,
    portal_form: PortalAccountForm | None = None,
    header: bool = True,
) -> dict:
    """The chart with one SECTION open; with HEADER, the summary above the tabs as well."""
    context = {
        "nav_active": "patients",
        "patient": patient,
        "section": section,
        "tabs": _chart_tabs(),
        "can_edit": has_permission(request.user, Permission.PATIENT_EDIT, patient.site_id),
        **_section_context(request, patient, section, sign_form, portal_form),
    }
    if header:
        context["alerts"] = chart_alerts(patient)
        # How far the patient has come, as the later stages report it.
        context["stage"] = plugs.furthest_stage(request, patient)
    return context


def _chart_url(patient: Patient, section: str) -> str:
    """The chart opened at SECTION."""
    return f"{reverse('patients:detail', args=[patient.pk])}?section={section}"


def _record_chart_read(request, patient: Patient, section: str) -> None:
    record_read(request, patient, object_type="patient", details={"section": section})


@login_required
def patient_detail(request, pk: int):
    """The chart: a summary of who the patient is and where they stand, then one section at a time."""
    patient = _staff_patient(request, pk)
    section = _section_named(request.GET.get("section", FIRST_SECTION))
    _record_chart_read(request, patient, section)
    return render(request, "patients/detail.html", _chart_context(request, patient, section))


def _render_fragment(request, template_name: str, context: dict) -> HttpResponse:
    """A fragment for htmx, inside a page already shown: the context processors that fill the page's
    navigation do not run; the fragment gets the user and the CSRF token its forms need."""
    template = get_template(template_name).template
    fragment = Context(
        {**context, "request": request, "user": request.user, "csrf_token": get_token(request)}
    )
    return HttpResponse(template.render(fragment))


@login_required
def patient_section(request, pk: int, name: str):
    """One section of the chart: htmx asks for the tabs and the section, anyone else gets the whole page."""
    patient = _staff_patient(request, pk)
    section = _section_named(name)
    _record_chart_read(request, patient, section)
    if wants_partial(request):
        response = _render_fragment(
            request, "patients/_chart_body.html", _chart_context(request, patient, section, header=False)
        )
    else:
        response = render(request, "patients/detail.html", _chart_context(request, patient, section))
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_POST
def patient_sign(request, pk: int):
    """A practitioner signs that the history and allergies are reviewed; the password is re-entered."""
    patient = _staff_patient(request, pk)
    if not has_permission(request.user, Permission.PATIENT_SIGN, patient.site_id):
        raise PermissionDenied(CANNOT_SIGN)
    form = SignReviewForm(request.POST)
    done, status = with_password_entry(
        request,
        form,
        lambda: patient_history_review_sign(
            patient=patient, signer=request.user, password=form.cleaned_data["password"]
        ),
    )
    if done:
        messages.success(request, "You signed the history review.")
        return redirect(_chart_url(patient, "history"))
    context = _chart_context(request, patient, "history", sign_form=form)
    return render(request, "patients/detail.html", context, status=status)


@login_required
@require_POST
def patient_portal_account(request, pk: int):
    """Create the patient's portal account with an initial password, and link it, in one go."""
    patient = _staff_patient(request, pk, write=True)
    if patient.portal_user_id is not None:
        messages.info(
            request, f"{patient.full_name} already has a portal account: {patient.portal_user.username}."
        )
        return redirect(_chart_url(patient, "record"))
    form = _portal_form(patient, request.POST)
    if form.is_valid():
        try:
            user = patient_portal_account_create(
                patient=patient,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                actor=request.user,
            )
        except InvalidInput as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Portal account {user.username} is created for {patient.full_name}. Give them the username "
                "and initial password yourself; they should change the password when they first sign in.",
            )
            return redirect(_chart_url(patient, "record"))
    context = _chart_context(request, patient, "record", portal_form=form)
    return render(request, "patients/detail.html", context, status=422)


@login_required
def portal(request):
    """A patient's own record, read-only, as the clinic holds it, and where their treatment stands."""
    if not request.user.is_patient:
        raise Http404("Not found")
    patient = Patient.objects.select_related("site").filter(portal_user=request.user).first()
    history = set(patient.history) if patient else set()
    allergies = set(patient.allergies) if patient else set()
    context = {
        "nav_active": "portal",
        "patient": patient,
        "history_items": [item for item in HISTORY_ITEMS if item.code in history],
        "allergy_items": [item for item in ALLERGY_ITEMS if item.code in allergies],
    }
    if patient is not None:
        # "What happens next" leads: everything waiting for the patient or the clinic, a consent to
        # read and sign first; then each stage's own section of the record.
        context["next_panels"] = plugs.render_panels("portal_next", request, patient)
        context["portal_panels"] = plugs.render_panels("portal", request, patient)
    return render(request, "patients/portal.html", context)
