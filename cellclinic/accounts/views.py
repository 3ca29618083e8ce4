"""Sign-in, sign-out and the role-aware start page."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from cellclinic.accounts.access import has_permission, site_ids_with, user_roles
from cellclinic.accounts.forms import SignInForm
from cellclinic.accounts.models import Site
from cellclinic.accounts.roles import ROLE_LABELS, Permission, Role
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.patients.selectors import patients_visible_to


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


@login_required
def home(request):
    """Start page: what this person works on, without patient names for roles that do not need them."""
    user = request.user
    if user.is_patient:
        return redirect("patients:portal")
    roles = user_roles(user)
    sites = {s.pk: s for s in Site.objects.filter(pk__in={site_id for site_id, _ in roles})}
    memberships = sorted(
        ((sites[site_id], ROLE_LABELS[Role(role)]) for site_id, role in roles if site_id in sites),
        key=lambda pair: (pair[0].name, pair[1]),
    )
    context = {
        "nav_active": "home",
        "memberships": memberships,
        "can_see_patients": has_permission(user, Permission.PATIENT_VIEW),
        "can_see_audit": has_permission(user, Permission.AUDIT_VIEW),
        "therapy_count": len(get_catalogue().therapies),
        "alternative_count": len(get_catalogue().alternatives),
    }
    if context["can_see_patients"]:
        patients = patients_visible_to(user)
        context["patient_count"] = patients.count()
        context["recent_patients"] = list(patients.select_related("site").order_by("-created_at")[:5])
    else:
        context["lab_sites"] = [s for s in sites.values() if s.kind == Site.Kind.LAB]
        context["served_clinics"] = list(
            Site.objects.filter(lab_id__in=site_ids_with(user, Permission.CATALOGUE_VIEW)).order_by("name")
        )
    return render(request, "accounts/home.html", context)
