"""Role-aware navigation: each link appears only for users who may follow it."""

from django.urls import reverse

from cellclinic.accounts.access import has_permission, user_roles
from cellclinic.accounts.roles import ROLE_LABELS, Permission, Role


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    links: list[tuple[str, str, str]] = []
    if user.is_patient:
        links.append(("portal", "My record", reverse("patients:portal")))
    else:
        links.append(("home", "Home", reverse("accounts:home")))
        if has_permission(user, Permission.PATIENT_VIEW):
            links.append(("patients", "Patients", reverse("patients:list")))
        if has_permission(user, Permission.ENQUIRY_HANDLE):
            links.append(("enquiries", "Enquiries", reverse("candidacy:enquiry_list")))
        if has_permission(user, Permission.CATALOGUE_VIEW):
            links.append(("catalogue", "Therapies", reverse("catalogue:list")))
        if has_permission(user, Permission.STAFF_MANAGE):
            links.append(("staff", "Staff", reverse("accounts:staff_list")))
        if has_permission(user, Permission.AUDIT_VIEW):
            links.append(("audit", "Audit trail", reverse("audit:list")))
        links.append(("api", "API", "/api/v1/docs"))
    links.append(("account", "My account", reverse("accounts:account")))
    roles = sorted({ROLE_LABELS[Role(role)] for _, role in user_roles(user)})
    return {"nav_links": links, "nav_roles": roles}
