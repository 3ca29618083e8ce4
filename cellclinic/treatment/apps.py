from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    name = "cellclinic.treatment"
    label = "treatment"
    verbose_name = "Treatment"

    def ready(self) -> None:
        from cellclinic.audit.selectors import register_object_type

        register_object_type("treatment_plan", "Treatment plan")
