"""The public self-assessment and consultation request, and the clinics' worklist of requests."""

from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from cellclinic.accounts.access import has_permission, require_permission
from cellclinic.accounts.roles import Permission
from cellclinic.audit.services import record_read, record_search
from cellclinic.candidacy.forms import (
    AssessmentForm,
    EnquiryForm,
    EnquiryStatusForm,
    form_errors_from_answers,
)
from cellclinic.candidacy.models import Assessment, Enquiry
from cellclinic.candidacy.selectors import assessment_get_public, enquiry_get_for_user, enquiry_list
from cellclinic.candidacy.services import (
    assessment_run,
    enquiry_create,
    enquiry_patient_prefill,
    enquiry_register_patient,
    enquiry_status_set,
)
from cellclinic.candidacy.states import ENQUIRY_STATES
from cellclinic.candidacy.throttle import assessment_limited, client_address, enquiry_limited
from cellclinic.core import plugs
from cellclinic.core.errors import InvalidInput
from cellclinic.core.forms import add_service_errors
from cellclinic.core.htmx import render_page_or_partial
from cellclinic.core.pagination import paginate
from cellclinic.core.views import rate_limited
from cellclinic.patients.forms import PatientForm

# ---------------------------------------------------------------------------------------------------
# Public pages: no sign-in.


QUESTIONS_GROUP = "candidacy.assessment_questions"
# The value of the no-JavaScript button that redraws the page with the questions for the chosen concerns.
SHOW_QUESTIONS = "questions"


def questions_limited(request) -> bool:
    """Count one redrawing of the questions from this address; True once over PUBLIC_QUESTIONS_RATE."""
    return is_ratelimited(
        request,
        group=QUESTIONS_GROUP,
        key=client_address,
        rate=settings.PUBLIC_QUESTIONS_RATE,
        method=("GET", "POST"),
        increment=True,
    )


@require_http_methods(["GET", "POST"])
def assess(request):
    """The questionnaire; a valid answer is stored and its result page shown.

    Only the questions that apply to the chosen concerns are asked (AssessmentForm says how, with and
    without JavaScript). The "Show the questions for my choices" button posts here too: the page comes
    back with the questions for the concerns ticked so far and the answers given so far, unjudged and
    not stored.
    """
    if request.method == "POST" and request.POST.get("action") == SHOW_QUESTIONS:
        if questions_limited(request):
            return rate_limited(request)
        return render(request, "candidacy/assess.html", {"form": AssessmentForm.redisplay(request.POST)})
    if request.method == "POST" and assessment_limited(request):
        return rate_limited(request)
    form = AssessmentForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                assessment = assessment_run(answers=form.answers(), source=Assessment.Source.PUBLIC)
            except InvalidInput as error:
                add_service_errors(form, form_errors_from_answers(error))
            else:
                return redirect("candidacy:result", public_id=assessment.public_id)
        status = 422
    return render(request, "candidacy/assess.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def assess_questions(request):
    """The condition questions for the concerns in the answers, for htmx to put in the page when a
    concern is ticked or unticked. The page posts its answers (so that none travels in an address) and
    the answers typed so far are shown back; a GET reads the concerns from the query string. Public,
    rate-limited, and nothing is stored or judged: the whole form is checked only when it is sent to
    `assess`."""
    if questions_limited(request):
        return rate_limited(request)
    form = AssessmentForm.redisplay(request.POST if request.method == "POST" else request.GET)
    return render(request, "candidacy/_condition_questions.html", {"form": form, "announce": True})


def assess_result(request, public_id: UUID):
    """The result in plain words, what to expect, and a way to ask for a consultation."""
    assessment = assessment_get_public(public_id)
    context = {"assessment": assessment, "result": assessment.result}
    return render(request, "candidacy/result.html", context)


@require_http_methods(["GET", "POST"])
def assess_request(request, public_id: UUID):
    """Ask a clinic for a consultation, with this assessment attached."""
    assessment = assessment_get_public(public_id)
    if request.method == "POST" and enquiry_limited(request):
        return rate_limited(request)
    form = EnquiryForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                enquiry_create(assessment=assessment, data=form.service_data())
            except InvalidInput as error:
                add_service_errors(form, error)
            else:
                return redirect("candidacy:request_sent", public_id=assessment.public_id)
        status = 422
    return render(request, "candidacy/request.html", {"form": form, "assessment": assessment}, status=status)


def assess_request_sent(request, public_id: UUID):
    """Thank you: the request is on the clinic's list. No contact details are shown back."""
    assessment = assessment_get_public(public_id)
    return render(request, "candidacy/request_sent.html", {"assessment": assessment})


# ---------------------------------------------------------------------------------------------------
# The worklist, for staff who handle consultation requests at their clinics.


@login_required
def enquiry_list_view(request):
    """Requests at the user's clinics, newest first, filtered by status; htmx asks for the table only."""
    require_permission(request.user, Permission.ENQUIRY_HANDLE)
    status = request.GET.get("status", "")
    status = status if status in Enquiry.Status.values else ""
    window = paginate(request, enquiry_list(request.user, status=status))
    record_search(request, "enquiry")
    context = {
        "nav_active": "enquiries",
        "window": window,
        "enquiries": window.page.object_list,
        "status": status,
        "statuses": Enquiry.Status.choices,
    }
    return render_page_or_partial(
        request, "candidacy/enquiry_list.html", "candidacy/_enquiry_table.html", context
    )


def _staff_enquiry(request, enquiry_id: int) -> Enquiry:
    require_permission(request.user, Permission.ENQUIRY_HANDLE)
    return enquiry_get_for_user(request.user, enquiry_id)


def _detail_context(request, enquiry: Enquiry, form: EnquiryStatusForm | None = None) -> dict:
    next_statuses = [enquiry.status, *ENQUIRY_STATES.next_states(enquiry.status)]
    if form is None:
        form = EnquiryStatusForm(initial={"status": enquiry.status})
    form.fields["status"].choices = [
        (value, label) for value, label in Enquiry.Status.choices if value in next_statuses
    ]
    return {
        "nav_active": "enquiries",
        "enquiry": enquiry,
        "result": enquiry.assessment.result if enquiry.assessment is not None else None,
        "form": form,
        "can_register": enquiry.patient_id is None
        and has_permission(request.user, Permission.PATIENT_EDIT, enquiry.site_id),
        # What later stages offer from here (a consultation, once the enquirer is registered).
        "actions": plugs.render_panels("enquiry_actions", request, enquiry),
    }


@login_required
def enquiry_detail(request, enquiry_id: int):
    """Contact details, the attached result, notes and the status."""
    enquiry = _staff_enquiry(request, enquiry_id)
    record_read(request, enquiry)
    return render(request, "candidacy/enquiry_detail.html", _detail_context(request, enquiry))


@login_required
@require_POST
def enquiry_status(request, enquiry_id: int):
    """Move the request on (new -> contacted -> booked or closed) and/or add a note."""
    enquiry = _staff_enquiry(request, enquiry_id)
    form = EnquiryStatusForm(request.POST)
    if form.is_valid():
        try:
            enquiry_status_set(
                enquiry=enquiry,
                actor=request.user,
                status=form.cleaned_data["status"],
                notes=form.cleaned_data["notes"],
            )
        except InvalidInput as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "The request is updated.")
            return redirect("candidacy:enquiry_detail", enquiry_id=enquiry.pk)
    context = _detail_context(request, enquiry, form)
    return render(request, "candidacy/enquiry_detail.html", context, status=422)


@login_required
@require_http_methods(["GET", "POST"])
def enquiry_register(request, enquiry_id: int):
    """Register the person as a patient at the request's clinic, prefilled from the request."""
    enquiry = _staff_enquiry(request, enquiry_id)
    require_permission(request.user, Permission.PATIENT_EDIT)
    if not has_permission(request.user, Permission.PATIENT_EDIT, enquiry.site_id):
        raise Http404("Not found")
    if enquiry.patient_id is not None:
        messages.info(request, "This request is already linked to a patient.")
        return redirect("candidacy:enquiry_detail", enquiry_id=enquiry.pk)
    form = PatientForm(request.POST or None, initial=enquiry_patient_prefill(enquiry))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                patient = enquiry_register_patient(
                    enquiry=enquiry, actor=request.user, data=form.service_data()
                )
            except InvalidInput as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{patient.full_name} is registered with MRN {patient.mrn}.")
                return redirect("candidacy:enquiry_detail", enquiry_id=enquiry.pk)
        status = 422
    context = {"nav_active": "enquiries", "enquiry": enquiry, "form": form}
    return render(request, "candidacy/enquiry_register.html", context, status=status)
