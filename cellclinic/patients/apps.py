from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "cellclinic.patients"
    label = "patients"
    verbose_name = "Patient registry"
