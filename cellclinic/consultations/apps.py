from django.apps import AppConfig


class ConsultationsConfig(AppConfig):
    name = "cellclinic.consultations"
    label = "consultations"
    verbose_name = "Consultations and consent"

    def ready(self) -> None:
        from cellclinic.audit.selectors import register_object_type

        register_object_type("consultation", "Consultation")
        register_object_type("photo", "Photo")
        register_object_type("consent", "Consent")
