from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    name = "cellclinic.treatment"
    label = "treatment"
    verbose_name = "Treatment"

    def ready(self) -> None:
        from cellclinic.audit.selectors import (
            register_action_labels,
            register_field_labels,
            register_object_type,
        )
        from cellclinic.core import plugs
        from cellclinic.treatment import panels, worklist
        from cellclinic.treatment.chart_stage import plan_stage
        from cellclinic.treatment.counters import plans_by_therapy_version
        from cellclinic.treatment.services import plans_stop_for_consent

        register_object_type("treatment_plan", "Treatment plan")
        register_action_labels({"plan.create": "Treatment plan made", "plan.stop": "Treatment plan stopped"})
        register_field_labels(
            "treatment_plan",
            {
                "status": "Status",
                "consultation": "Consultation (id)",
                "consent": "Consent (id)",
                "therapy_code": "Therapy",
                "therapy_version": "Protocol version",
                "harvest_date": "Harvest date",
                "start_date": "Start date",
                "steps": "Steps planned",
                "stopped_reason": "Reason for stopping",
            },
        )
        plugs.register_panel(
            "chart",
            "treatment",
            template="treatment/_panel.html",
            context=panels.chart_panel,
            order=40,
            section="plan",
        )
        plugs.register_stage_reporter("treatment", plan_stage)
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
        plugs.register_worklist(
            worklist.OVERDUE,
            label="Plan steps past their date",
            shown_to=worklist.follows_plans,
            count=worklist.overdue_count,
            items=worklist.overdue,
            order=50,
        )
        plugs.register_worklist(
            worklist.DUE_SOON,
            label=f"Plan steps due in the next {worklist.DUE_DAYS} days",
            shown_to=worklist.follows_plans,
            count=worklist.due_soon_count,
            items=worklist.due_soon,
            order=60,
        )
