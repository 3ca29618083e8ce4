from django.apps import AppConfig


class ConsentsConfig(AppConfig):
    name = "cellclinic.consents"
    label = "consents"
    verbose_name = "Consent"

    def ready(self) -> None:
        from cellclinic.audit.selectors import (
            register_action_labels,
            register_field_labels,
            register_object_type,
        )
        from cellclinic.consents import panels, worklist
        from cellclinic.consents.chart_stage import consent_stage
        from cellclinic.consents.counters import consents_by_therapy_version
        from cellclinic.core import plugs

        register_object_type("consent", "Consent")
        register_action_labels(
            {
                "consent.prepare": "Consent prepared",
                "consent.patient_sign": "Consent signed by the patient",
                "consent.patient_sign_in_clinic": "Consent signed by the patient in clinic",
                "consent.guardian_sign": "Consent signed by a parent or guardian with assent",
                "consent.countersign": "Consent countersigned",
                "consent.withdraw": "Consent withdrawn",
            }
        )
        register_field_labels(
            "consent",
            {
                "status": "Status",
                "consultation": "Consultation (id)",
                "therapy_code": "Therapy",
                "therapy_version": "Protocol version",
                "template_version": "Consent form version",
                "document_hash": "Hash of the consent document",
                "photographs": "Agrees to photographs",
                "outcome_reports": "Agrees to outcome reports",
                "patient_signed_at": "Patient signed at",
                "patient_signed_in_clinic": "Patient signed in clinic",
                "practitioner_signed_at": "Practitioner signed at",
                "minor": "Under 16",
                "guardian_name": "Parent or guardian",
                "guardian_relationship": "Relationship to the patient",
                "young_person_assent": "Young person assents",
                "pdf": "PDF file",
                "pdf_sha256": "Hash of the PDF (SHA-256)",
                "withdrawn_at": "Withdrawn at",
                "withdrawn_by": "Withdrawn by (user id)",
                "withdrawn_reason": "Reason for withdrawal",
            },
        )
        plugs.register_panel(
            "chart",
            "consents",
            template="consents/_chart_panel.html",
            context=panels.chart_panel,
            order=30,
            section="consents",
        )
        plugs.register_stage_reporter("consents", consent_stage)
        plugs.register_panel(
            "consultation",
            "consents",
            template="consents/_consultation_panel.html",
            context=panels.consultation_panel,
        )
        plugs.register_panel(
            "portal", "consents", template="consents/_portal.html", context=panels.portal_panel, order=20
        )
        plugs.register_panel(
            "portal_next",
            "consent_to_sign",
            template="consents/_portal_next_sign.html",
            context=panels.portal_next_to_sign,
            order=5,  # what the patient does comes before what the clinic does next
        )
        plugs.register_panel(
            "portal_next",
            "consent_to_countersign",
            template="consents/_portal_next_countersign.html",
            context=panels.portal_next_countersign,
            order=30,
        )
        # The catalogue page counts the consents made on each protocol version.
        plugs.register_counter(
            "therapy_versions_in_use",
            "consents",
            label="Consents",
            count=consents_by_therapy_version,
            order=10,
        )
        plugs.register_worklist(
            worklist.AWAITING_COUNTERSIGN,
            label="Consents to countersign",
            shown_to=worklist.prepares_consent,
            count=worklist.awaiting_countersign_count,
            items=worklist.awaiting_countersign,
            order=30,
        )
        plugs.register_worklist(
            worklist.AWAITING_PATIENT,
            label="Consents waiting for the patient's signature",
            shown_to=worklist.prepares_consent,
            count=worklist.awaiting_patient_count,
            items=worklist.awaiting_patient,
            order=40,
        )
        plugs.register_worklist(
            worklist.WITHDRAWN_RECENTLY,
            label=f"Consents withdrawn in the last {worklist.WITHDRAWN_DAYS} days",
            shown_to=worklist.handles_withdrawals,
            count=worklist.withdrawn_recently_count,
            items=worklist.withdrawn_recently,
            order=70,
        )
