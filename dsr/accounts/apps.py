from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "dsr.accounts"
    label = "accounts"
