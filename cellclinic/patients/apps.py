from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "cellclinic.patients"
    label = "patients"
    verbose_name = "Patient registry"

    def ready(self) -> None:
        from cellclinic.accounts.access import has_permission
        from cellclinic.accounts.roles import Permission
        from cellclinic.audit.selectors import register_action_labels, register_field_labels
        from cellclinic.core import plugs
        from cellclinic.patients import panels

        register_action_labels(
            {
                "patient.create": "Registered",
                "patient.update": "Record changed",
                "patient.link_portal_user": "Portal account linked",
            }
        )
        register_field_labels(
            "patient",
            {
                "mrn": "Medical record number",
                "site": "Clinic",
                "given_name": "Given name",
                "family_name": "Family name",
                "date_of_birth": "Date of birth",
                "sex_at_birth": "Sex at birth",
                "gender_identity": "Gender identity",
                "pronouns": "Pronouns",
                "email": "Email",
                "phone": "Phone",
                "address": "Address",
                "postcode": "Postcode",
                "fitzpatrick_type": "Fitzpatrick skin type",
                "presenting_concern": "Presenting concern",
                "concern_details": "Details of the concern",
                "history": "Relevant history",
                "history_notes": "Notes on the history",
                "allergies": "Allergies",
                "allergy_notes": "Other allergies, or notes",
                "portal_user": "Portal account",
                "id": "Patient ID",
            },
        )
        plugs.register_nav_link(
            "portal", "My record", "patients:portal", shown_to=lambda u: u.is_patient, order=0
        )
        plugs.register_nav_link(
            "patients",
            "Patients",
            "patients:list",
            shown_to=lambda user: has_permission(user, Permission.PATIENT_VIEW),
            order=10,
        )
        plugs.register_panel(
            "home", "patients", template="patients/_home_tile.html", context=panels.home_tile, order=10
        )
