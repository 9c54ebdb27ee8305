from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "fibrosurvey.web.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from fibrosurvey.web.accounts import signals  # noqa: F401
