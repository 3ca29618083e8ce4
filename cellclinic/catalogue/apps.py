from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "cellclinic.catalogue"
    label = "catalogue"
    verbose_name = "Therapy catalogue"

    def ready(self) -> None:
        # A malformed protocol file stops start-up rather than surfacing mid-consultation.
        from cellclinic.accounts.access import has_permission
        from cellclinic.accounts.roles import Permission
        from cellclinic.catalogue import panels
        from cellclinic.catalogue.registry import catalogue_install
        from cellclinic.core import plugs

        catalogue_install()
        plugs.register_nav_link(
            "catalogue",
            "Therapies",
            "catalogue:list",
            shown_to=lambda user: not user.is_patient and has_permission(user, Permission.CATALOGUE_VIEW),
            order=50,
        )
        plugs.register_panel(
            "home", "catalogue", template="catalogue/_home_tile.html", context=panels.home_tile, order=20
        )
