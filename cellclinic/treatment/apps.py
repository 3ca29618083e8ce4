from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    name = "cellclinic.treatment"
    label = "treatment"
    verbose_name = "Treatment"

    def ready(self) -> None:
        from cellclinic.audit.selectors import register_action_labels, register_object_type
        from cellclinic.core import plugs
        from cellclinic.treatment import panels
        from cellclinic.treatment.counters import plans_by_therapy_version
        from cellclinic.treatment.services import plans_stop_for_consent

        register_object_type("treatment_plan", "Treatment plan")
        register_action_labels({"plan.create": "Treatment plan made", "plan.stop": "Treatment plan stopped"})
        plugs.register_panel(
            "chart", "treatment", template="treatment/_panel.html", context=panels.chart_panel, order=40
        )
        plugs.register_panel(
            "consent", "make_plan", template="treatment/_consent_next.html", context=panels.consent_panel
        )
        plugs.register_panel(
            "portal", "plans", template="treatment/_portal.html", context=panels.portal_panel, order=10
        )
        plugs.register_panel(
            "portal_next",
            "plan_step",
            template="treatment/_portal_next.html",
            context=panels.portal_next,
            order=10,
        )
        # Withdrawn consent stops every plan made on it, in the withdrawal's own transaction.
        plugs.register_hook("consent_withdrawn", "treatment.stop_plans", plans_stop_for_consent)
        # The catalogue page counts the plans laid out from each protocol version.
        plugs.register_counter(
            "therapy_versions_in_use", "treatment", label="Plans", count=plans_by_therapy_version, order=20
        )
