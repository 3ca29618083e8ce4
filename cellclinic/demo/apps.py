from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data loaded through every app's real services; the top of the house, importing everything."""

    name = "cellclinic.demo"
    label = "demo"
    verbose_name = "Demo data"
