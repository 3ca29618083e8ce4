from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cellclinic.accounts"
    label = "accounts"
    verbose_name = "Accounts and sites"
