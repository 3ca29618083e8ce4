from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cellclinic.core"
    label = "core"
    verbose_name = "CellClinic core"
