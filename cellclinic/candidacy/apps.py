from django.apps import AppConfig


class CandidacyConfig(AppConfig):
    name = "cellclinic.candidacy"
    label = "candidacy"
    verbose_name = "Candidacy"

    def ready(self) -> None:
        from cellclinic.audit.selectors import register_object_type

        register_object_type("assessment", "Self-assessment")
        register_object_type("enquiry", "Consultation request")
