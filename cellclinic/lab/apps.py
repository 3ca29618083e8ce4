from django.apps import AppConfig


class LabConfig(AppConfig):
    name = "cellclinic.lab"
    label = "lab"
    verbose_name = "Lab"

    def ready(self) -> None:
        from cellclinic.core import plugs

        self._register_pages(plugs)
        self._register_services(plugs)

    @staticmethod
    def _register_pages(plugs) -> None:
        """The chart's lab panel and stage, the worklist items and the Lab navigation link."""
        from cellclinic.lab import panels, worklist
        from cellclinic.lab.chart_stage import lab_stage

        plugs.register_panel(
            "chart",
            "lab",
            template="lab/_chart_panel.html",
            context=panels.chart_panel,
            order=50,
            section="plan",
        )
        # What the clinic does next: the harvest a plan waits for, a re-harvest, the bedside check.
        from cellclinic.lab.available import chart_next

        plugs.register_panel(
            "chart",
            "lab_next",
            template="lab/actions/_chart_next.html",
            context=chart_next,
            order=45,
            section="plan",
        )
        plugs.register_stage_reporter("lab", lab_stage)
        worklist.register()
        plugs.register_nav_link(
            "lab",
            "Lab",
            "lab:index",
            shown_to=worklist.works_in_the_lab,
            order=30,
            count=worklist.nav_count,
        )

    @staticmethod
    def _register_services(plugs) -> None:
        """The audit trail's names for the lab's records and actions, the withdrawal hook, and the
        processing slots a treatment plan is laid out from."""
        from cellclinic.audit.selectors import (
            register_action_labels,
            register_field_labels,
            register_object_type,
        )
        from cellclinic.lab import audit_labels
        from cellclinic.lab.planning import processing_slot
        from cellclinic.lab.services import quarantine_for_consent

        for object_type, label in audit_labels.OBJECT_TYPES.items():
            register_object_type(object_type, label)
        register_action_labels(audit_labels.ACTIONS)
        for object_type, labels in audit_labels.FIELDS.items():
            register_field_labels(object_type, labels)
        # Withdrawn consent quarantines the unused product and cells at once, in the withdrawal's
        # own transaction.
        plugs.register_hook("consent_withdrawn", "lab.quarantine", quarantine_for_consent)
        # A treatment plan's processing starts on the first day the clinic's lab has a slot free.
        plugs.register_scheduler("processing", processing_slot)
