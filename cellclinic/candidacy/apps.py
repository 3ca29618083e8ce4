from django.apps import AppConfig


class CandidacyConfig(AppConfig):
    name = "cellclinic.candidacy"
    label = "candidacy"
    verbose_name = "Candidacy"

    def ready(self) -> None:
        from cellclinic.accounts.access import has_permission
        from cellclinic.accounts.roles import Permission
        from cellclinic.audit.selectors import register_action_labels, register_object_type
        from cellclinic.candidacy import panels
        from cellclinic.core import plugs

        register_object_type("assessment", "Self-assessment")
        register_object_type("enquiry", "Consultation request")
        register_action_labels(
            {
                "assessment.create": "Candidacy assessed",
                "enquiry.register": "Registered from a consultation request",
            }
        )
        plugs.register_nav_link(
            "enquiries",
            "Enquiries",
            "candidacy:enquiry_list",
            shown_to=lambda user: has_permission(user, Permission.ENQUIRY_HANDLE),
            order=20,
        )
        plugs.register_panel(
            "sign_in",
            "self_assessment",
            template="candidacy/_sign_in_link.html",
            context=lambda request, obj: {},
        )
        plugs.register_panel(
            "portal", "assessment", template="candidacy/_portal.html", context=panels.portal_panel, order=40
        )
