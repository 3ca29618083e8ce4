from django.apps import AppConfig


class CandidacyConfig(AppConfig):
    name = "cellclinic.candidacy"
    label = "candidacy"
    verbose_name = "Candidacy"

    def ready(self) -> None:
        from cellclinic.accounts.access import has_permission
        from cellclinic.accounts.roles import Permission
        from cellclinic.audit.selectors import (
            register_action_labels,
            register_field_labels,
            register_object_type,
        )
        from cellclinic.candidacy import panels, worklist
        from cellclinic.core import plugs

        register_object_type("assessment", "Self-assessment")
        register_object_type("enquiry", "Consultation request")
        register_field_labels(
            "assessment",
            {
                "outcome": "Outcome",
                "source": "Made by",
                "ruleset": "Rule set version",
                "public_id": "Reference",
            },
        )
        register_field_labels(
            "enquiry",
            {
                "status": "Status",
                "assessment": "Self-assessment (reference)",
                "consent_to_contact": "Agrees to be contacted",
                "handled_by": "Handled by (user id)",
                "notes": "Notes",
                "patient": "Patient (id)",
                "mrn": "Medical record number",
            },
        )
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
            count=lambda user: plugs.worklist_count(user, worklist.NEW_REQUESTS),
        )
        plugs.register_worklist(
            worklist.NEW_REQUESTS,
            label="New consultation requests",
            shown_to=worklist.handles_requests,
            count=worklist.new_requests_count,
            items=worklist.new_requests,
            href="candidacy:enquiry_list?status=new",
            order=10,
            empty_text="No new requests: every request has been answered.",
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
