"""Sign-in, sign-out, the role-aware start page, staff management and the user's own account."""

from dataclasses import replace

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods, require_POST

from cellclinic.accounts import second_factor
from cellclinic.accounts.access import (
    api_token_get_for_owner,
    has_permission,
    membership_get_for_admin,
    require_permission,
    require_staff,
    staff_get_for_admin,
    user_roles,
)
from cellclinic.accounts.forms import (
    STAFF_SEARCH_LABEL,
    ApiTokenCreateForm,
    PasswordChangeForm,
    PasswordResetForm,
    ReasonForm,
    RoleGrantForm,
    SecondFactorForm,
    SignInForm,
    StaffCreateForm,
    StaffFilterForm,
)
from cellclinic.accounts.models import Site, User
from cellclinic.accounts.roles import ROLE_LABELS, Permission, Role
from cellclinic.accounts.selectors import (
    api_tokens_of,
    managed_sites,
    memberships_of,
    staff_list,
    staff_memberships,
    staff_works_elsewhere,
)
from cellclinic.accounts.services import (
    api_token_create,
    api_token_revoke,
    membership_grant,
    membership_revoke,
    second_factor_reset,
    staff_member_create,
    user_change_password,
    user_deactivate,
    user_password_reset,
    user_reactivate,
)
from cellclinic.accounts.throttle import with_password_entry
from cellclinic.audit.services import record_search
from cellclinic.core import plugs
from cellclinic.core.errors import InvalidInput
from cellclinic.core.forms import add_service_errors
from cellclinic.core.htmx import render_page_or_partial
from cellclinic.core.pagination import paginate

TOKENS_PER_PAGE = 20


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_success_url(self):
        """After the password, a session that owes a second factor goes to it first, keeping `next`."""
        url = super().get_success_url()
        if second_factor.session_needs_second_factor(self.request):
            return f"{reverse('accounts:two_factor')}?{urlencode({'next': url})}"
        return url

    def get_context_data(self, **kwargs):
        # What other apps offer to someone not signed in (the public self-assessment).
        return {
            **super().get_context_data(**kwargs),
            "sign_in_panels": plugs.render_panels("sign_in", self.request, None),
        }


class SignOutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


def _safe_next(request) -> str:
    """The `next` this request carries when it stays on this site; the start page otherwise."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("accounts:home")


def _with_next(name: str, target: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': target})}"


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request):
    """The second step of signing in: a code from the authenticator app, or a recovery code."""
    user = request.user
    target = _safe_next(request)
    if not second_factor.session_needs_second_factor(request):
        return redirect(target)
    if not second_factor.has_second_factor(user):
        return redirect(_with_next("accounts:two_factor_enrol", target))
    form = SecondFactorForm(request.POST or None)
    status = 200
    if request.method == "POST":
        verified = {}
        done, status = with_password_entry(
            request,
            form,
            lambda: verified.update(
                device=second_factor.second_factor_verify(user=user, code=form.cleaned_data["code"])
            ),
            field="code",
        )
        if done:
            second_factor.mark_verified(request, verified["device"])
            return redirect(target)
    context = {"form": form, "next": target}
    return render(request, "accounts/two_factor.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_enrol(request):
    """Set up the authenticator app: scan the QR code (or type the secret), confirm with a code, and
    receive recovery codes, shown this once. Staff do this at their first sign-in; patients may opt in."""
    user = request.user
    target = _safe_next(request)
    if second_factor.has_second_factor(user):
        return redirect(target)
    device = second_factor.enrolment_device(user)
    form = SecondFactorForm(request.POST or None)
    form.fields["code"].help_text = "The six digits your authenticator app shows now for CellClinic."
    status = 200
    if request.method == "POST":
        enrolled = {}
        done, status = with_password_entry(
            request,
            form,
            lambda: enrolled.update(
                result=second_factor.enrolment_confirm(user=user, code=form.cleaned_data["code"])
            ),
            field="code",
        )
        if done:
            device, codes = enrolled["result"]
            second_factor.mark_verified(request, device)
            context = {"codes": codes, "next": target}
            return render(request, "accounts/recovery_codes.html", context)
    context = {
        "form": form,
        "next": target,
        "qr_svg": second_factor.qr_svg(device),
        "secret": second_factor.secret_text(device),
        "required": second_factor.required_for(user),
    }
    return render(request, "accounts/two_factor_enrol.html", context, status=status)


@login_required
def home(request):
    """Start page: what this person works on, without patient names for roles that do not need them."""
    user = request.user
    if user.is_patient:
        # A portal patient starts on the first page the navigation offers them: their own record.
        first = plugs.nav_links_for(user)
        return redirect(first[0].url_name if first else "accounts:account")
    roles = user_roles(user)
    sites = {s.pk: s for s in Site.objects.filter(pk__in={site_id for site_id, _ in roles})}
    memberships = sorted(
        ((sites[site_id], ROLE_LABELS[Role(role)]) for site_id, role in roles if site_id in sites),
        key=lambda pair: (pair[0].name, pair[1]),
    )
    worklist = plugs.worklist_for(user)
    if any(entry.rows for entry in worklist):
        # The worklist names patients and what waits on their records: one read in the access log.
        record_search(request, "worklist", action="worklist.view")
        if not has_permission(user, Permission.PATIENT_VIEW):
            # Whatever an app lists, a role without access to patients' records reads no names.
            worklist = [replace(e, rows=[replace(r, who="") for r in e.rows]) for e in worklist]
    context = {
        "nav_active": "home",
        "memberships": memberships,
        # What waits for this person at their sites, item by item, from each app.
        "worklist": worklist,
        "worklist_offered": bool(worklist) or bool(plugs.worklist_items_for(user)),
        # Each app's tile (patients, catalogue, audit, lab, ...) and wider panels below them.
        # rendered inside this page's context, so the context processors run once.
        "tiles": plugs.panel_contexts("home", request, user),
        "wide_panels": plugs.panel_contexts("home_wide", request, user),
    }
    return render(request, "accounts/home.html", context)


# Staff management, for clinic admins


@login_required
def staff_list_view(request):
    """Staff of the admin's sites with their roles there, searchable; htmx asks for the table only."""
    require_permission(request.user, Permission.STAFF_MANAGE)
    form = StaffFilterForm(request.GET)
    filters = form.filters()
    window = paginate(request, staff_list(request.user, **filters))
    context = {
        "nav_active": "staff",
        "form": form,
        "window": window,
        "staff": window.page.object_list,
        "q": filters["query"],
        "search_label": STAFF_SEARCH_LABEL,
    }
    return render_page_or_partial(request, "accounts/staff_list.html", "accounts/_staff_table.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def staff_create(request):
    """A new staff member with a first role at one of the admin's sites; nothing is saved on error."""
    sites = managed_sites(request.user)
    form = StaffCreateForm(request.POST or None, sites=sites)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                member = staff_member_create(
                    username=data["username"],
                    password=data["password"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    email=data["email"],
                    site=data["site"],
                    role=data["role"],
                    actor=request.user,
                )
            except InvalidInput as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    f"{member.display_name} can now sign in as {member.username}. "
                    "Ask them to change the initial password under “My account” when they first sign in.",
                )
                return redirect("accounts:staff_detail", pk=member.pk)
        status = 422
    return render(request, "accounts/staff_form.html", {"nav_active": "staff", "form": form}, status=status)


def _staff_detail_page(request, member: User, *, status: int = 200, **forms):
    """The staff member page; FORMS replace the blank forms when a post is refused."""
    sites = managed_sites(request.user)
    memberships = staff_memberships(request.user, member)
    held = {(m.site_id, m.role) for m in memberships}
    is_self = member.pk == request.user.pk
    context = {
        "nav_active": "staff",
        "member": member,
        "memberships": memberships,
        "is_self": is_self,
        "works_elsewhere": staff_works_elsewhere(request.user, member),
        "grant_form": forms.get("grant_form") or RoleGrantForm(sites=sites, held=held),
        "status_form": forms.get("status_form") or ReasonForm(),
        "reset_form": forms.get("reset_form") or PasswordResetForm(prefix="reset"),
        "factor_form": forms.get("factor_form") or ReasonForm(prefix="factor"),
        "has_second_factor": second_factor.has_second_factor(member),
        "revoke_error": forms.get("revoke_error"),
    }
    return render(request, "accounts/staff_detail.html", context, status=status)


@login_required
def staff_detail(request, pk: int):
    """One staff member: roles at the admin's sites, grant and revoke, deactivate or reactivate."""
    return _staff_detail_page(request, staff_get_for_admin(request.user, pk))


@login_required
@require_POST
def staff_grant(request, pk: int):
    """Another role for the member, at one of the admin's sites."""
    member = staff_get_for_admin(request.user, pk)
    held = {(m.site_id, m.role) for m in staff_memberships(request.user, member)}
    form = RoleGrantForm(request.POST, sites=managed_sites(request.user), held=held)
    if form.is_valid():
        site, role = form.cleaned_data["site"], form.cleaned_data["role"]
        try:
            membership_grant(user=member, site=site, role=role, actor=request.user)
        except InvalidInput as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"{member.display_name} is now {ROLE_LABELS[Role(role)]} at {site.name}."
            )
            return redirect("accounts:staff_detail", pk=member.pk)
    return _staff_detail_page(request, member, status=422, grant_form=form)


@login_required
@require_POST
def staff_revoke(request, pk: int, membership_pk: int):
    """Take one role away; back to the list when none is left at the admin's sites."""
    member = staff_get_for_admin(request.user, pk)
    membership = membership_get_for_admin(request.user, member, membership_pk)
    try:
        membership_revoke(membership=membership, actor=request.user)
    except InvalidInput as error:
        message = "; ".join(e.message for e in error.errors) or error.detail
        return _staff_detail_page(request, member, status=422, revoke_error=message)
    label = ROLE_LABELS[Role(membership.role)]
    messages.success(request, f"{member.display_name} is no longer {label} at {membership.site.name}.")
    if not staff_memberships(request.user, member):
        messages.info(request, f"{member.display_name} holds no role at your sites now.")
        return redirect("accounts:staff_list")
    return redirect("accounts:staff_detail", pk=member.pk)


def _change_status(request, pk: int, service, done: str):
    """Deactivate or reactivate with a reason; refusals are shown on the member's page."""
    member = staff_get_for_admin(request.user, pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            service(user=member, actor=request.user, reason=form.cleaned_data["reason"])
        except InvalidInput as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done.format(name=member.display_name))
            return redirect("accounts:staff_detail", pk=member.pk)
    return _staff_detail_page(request, member, status=422, status_form=form)


@login_required
@require_POST
def staff_deactivate(request, pk: int):
    """The account can no longer sign in, and its API tokens are revoked."""
    return _change_status(
        request, pk, user_deactivate, "{name} can no longer sign in; their API tokens are revoked."
    )


@login_required
@require_POST
def staff_reactivate(request, pk: int):
    return _change_status(request, pk, user_reactivate, "{name} can sign in again.")


@login_required
@require_POST
def staff_password_reset(request, pk: int):
    """A new initial password set by the admin; it also lifts a sign-in lockout."""
    member = staff_get_for_admin(request.user, pk)
    form = PasswordResetForm(request.POST, prefix="reset")
    if form.is_valid():
        try:
            user_password_reset(
                user=member,
                actor=request.user,
                new_password=form.cleaned_data["password"],
                reason=form.cleaned_data["reason"],
            )
        except InvalidInput as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"{member.display_name} has a new password and can sign in with it now."
            )
            return redirect("accounts:staff_detail", pk=member.pk)
    return _staff_detail_page(request, member, status=422, reset_form=form)


@login_required
@require_POST
def staff_second_factor_reset(request, pk: int):
    """Remove a staff member's authenticator and recovery codes; they set up a new one at sign-in."""
    member = staff_get_for_admin(request.user, pk)
    form = ReasonForm(request.POST, prefix="factor")
    if form.is_valid():
        try:
            second_factor_reset(user=member, actor=request.user, reason=form.cleaned_data["reason"])
        except InvalidInput as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"{member.display_name}'s second factor is reset: they set up a new authenticator app "
                "when they next sign in.",
            )
            return redirect("accounts:staff_detail", pk=member.pk)
    return _staff_detail_page(request, member, status=422, factor_form=form)


# The signed-in user's own account


def _account_page(request, *, status: int = 200, **forms):
    user = request.user
    context = {
        "nav_active": "account",
        "memberships": [] if user.is_patient else memberships_of(user),
        "password_form": forms.get("password_form") or PasswordChangeForm(),
        "has_second_factor": second_factor.has_second_factor(user),
        "second_factor_required": second_factor.required_for(user),
        "recovery_codes_left": second_factor.recovery_codes_left(user),
    }
    if not user.is_patient:
        window = paginate(request, api_tokens_of(user), per_page=TOKENS_PER_PAGE)
        context["window"] = window
        context["tokens"] = window.page.object_list
        context["token_form"] = forms.get("token_form") or ApiTokenCreateForm()
    return render(request, "accounts/account.html", context, status=status)


@login_required
def account(request):
    """Who I am, my roles, my password and (staff) my API tokens."""
    return _account_page(request)


@login_required
@require_POST
def password_change(request):
    """The current password first; the session stays signed in with the new one."""
    form = PasswordChangeForm(request.POST)
    done, status = with_password_entry(
        request,
        form,
        lambda: user_change_password(
            user=request.user,
            old_password=form.cleaned_data["old_password"],
            new_password=form.cleaned_data["new_password"],
        ),
        field="old_password",
    )
    if done:
        update_session_auth_hash(request, request.user)
        messages.success(
            request,
            "Your password is changed. Other signed-in browsers are signed out "
            "and your API tokens are revoked.",
        )
        return redirect("accounts:account")
    return _account_page(request, status=status, password_form=form)


@login_required
@require_POST
def token_create(request):
    """A new API token; its key is on this answer only and is never stored."""
    require_staff(request.user)
    form = ApiTokenCreateForm(request.POST)
    if form.is_valid():
        try:
            token, key = api_token_create(
                user=request.user, name=form.cleaned_data["name"], actor=request.user
            )
        except InvalidInput as error:
            add_service_errors(form, error)
        else:
            context = {"nav_active": "account", "token": token, "key": key}
            response = render(request, "accounts/token_created.html", context, status=201)
            add_never_cache_headers(response)
            return response
    return _account_page(request, status=422, token_form=form)


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = api_token_get_for_owner(request.user, pk)
    api_token_revoke(token=token, actor=request.user)
    messages.success(request, f"The token “{token.name}” ({token.prefix}…) is revoked.")
    return redirect("accounts:account")
