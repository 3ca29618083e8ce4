from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "cellclinic.catalogue"
    label = "catalogue"
    verbose_name = "Therapy catalogue"

    def ready(self) -> None:
        # A malformed protocol file stops start-up rather than surfacing mid-consultation.
        from cellclinic.catalogue.registry import catalogue_install

        catalogue_install()
