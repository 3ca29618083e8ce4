from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cellclinic.accounts"
    label = "accounts"
    verbose_name = "Accounts and sites"

    def ready(self) -> None:
        from cellclinic.accounts import middleware, panels  # noqa: F401  (middleware: the sign-in receiver)
        from cellclinic.accounts.access import has_permission
        from cellclinic.accounts.roles import Permission
        from cellclinic.audit.selectors import register_action_labels
        from cellclinic.core import plugs

        def staff(user) -> bool:
            return not user.is_patient

        register_action_labels({"worklist.view": "Worklist read"})
        plugs.register_nav_link("home", "Home", "accounts:home", shown_to=staff, order=0)
        plugs.register_nav_link(
            "staff",
            "Staff",
            "accounts:staff_list",
            shown_to=lambda user: has_permission(user, Permission.STAFF_MANAGE),
            order=60,
        )
        plugs.register_nav_link("api", "API", "/api/v1/docs", shown_to=staff, order=80)
        plugs.register_nav_link(
            "account", "My account", "accounts:account", shown_to=lambda user: True, order=90
        )
        plugs.register_panel(
            "home", "lab", template="accounts/_home_lab.html", context=panels.home_lab, order=40
        )
