from django.apps import AppConfig


class ConsentsConfig(AppConfig):
    name = "cellclinic.consents"
    label = "consents"
    verbose_name = "Consent"

    def ready(self) -> None:
        from cellclinic.audit.selectors import register_action_labels, register_object_type
        from cellclinic.consents import panels
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
        plugs.register_panel(
            "chart", "consents", template="consents/_chart_panel.html", context=panels.chart_panel, order=30
        )
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
            order=20,
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
