from django.apps import AppConfig


class ConsultationsConfig(AppConfig):
    name = "cellclinic.consultations"
    label = "consultations"
    verbose_name = "Consultations"

    def ready(self) -> None:
        from cellclinic.audit.selectors import register_action_labels, register_object_type
        from cellclinic.consultations import panels
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
        plugs.register_panel(
            "chart",
            "consultations",
            template="consultations/_panel.html",
            context=panels.chart_panel,
            order=20,
        )
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
