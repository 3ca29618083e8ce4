from django.apps import AppConfig


class ConsultationsConfig(AppConfig):
    name = "cellclinic.consultations"
    label = "consultations"
    verbose_name = "Consultations"

    def ready(self) -> None:
        from cellclinic.audit.selectors import (
            register_action_labels,
            register_field_labels,
            register_object_type,
        )
        from cellclinic.consultations import panels, worklist
        from cellclinic.consultations.chart_stage import consultation_stage
        from cellclinic.core import plugs

        register_object_type("consultation", "Consultation")
        register_action_labels(
            {
                "consultation.start": "Consultation started",
                "consultation.update": "Consultation notes changed",
                "consultation.assessment": "Candidacy re-assessed in consultation",
                "consultation.expectations_discussed": "Expectations discussed",
                "consultation.alternatives": "Alternatives discussed",
                "consultation.decide": "Consultation decision signed",
            }
        )
        register_field_labels(
            "consultation",
            {
                "status": "Status",
                "patient": "Patient (id)",
                "practitioner": "Practitioner (user id)",
                "enquiry": "Consultation request (id)",
                "assessment": "Self-assessment (id)",
                "goals": "Patient's goals",
                "target_areas": "Areas to treat",
                "indication": "Indication",
                "severity_scale": "Severity scale",
                "severity_score": "Severity score",
                "severity_items": "Severity scale items",
                "burn_depth": "Burn depth",
                "burn_tbsa_pct": "Burn area (% of body surface)",
                "wound_area_cm2": "Wound area (cm²)",
                "wound_duration_weeks": "Weeks the wound is open",
                "fitzpatrick_type": "Fitzpatrick skin type",
                "findings": "Findings",
                "expectations_discussed_at": "Expectations discussed at",
                "alternatives_discussed": "Alternatives discussed",
                "decision": "Decision",
                "therapy_code": "Therapy",
                "therapy_version": "Protocol version",
                "alternative_code": "Alternative",
                "decision_notes": "Notes on the decision",
                "decided_at": "Decided at",
            },
        )
        plugs.register_panel(
            "chart",
            "consultations",
            template="consultations/_panel.html",
            context=panels.chart_panel,
            order=20,
            section="consultations",
        )
        plugs.register_stage_reporter("consultations", consultation_stage)
        plugs.register_panel(
            "portal",
            "consultations",
            template="consultations/_portal.html",
            context=panels.portal_panel,
            order=30,
        )
        plugs.register_panel(
            "enquiry_actions",
            "start_consultation",
            template="consultations/_enquiry_start.html",
            context=panels.enquiry_actions,
        )
        plugs.register_worklist(
            worklist.IN_PROGRESS,
            label="Consultations in progress",
            shown_to=worklist.runs_consultations,
            count=worklist.in_progress_count,
            items=worklist.in_progress,
            order=20,
        )
