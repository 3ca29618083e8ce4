from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "cellclinic.catalogue"
    label = "catalogue"
    verbose_name = "Therapy catalogue"
