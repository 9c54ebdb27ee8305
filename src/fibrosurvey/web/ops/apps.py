from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Security and operations: headers, limits, link throttling, 2FA policy, backups."""

    name = "fibrosurvey.web.ops"
    label = "ops"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from fibrosurvey.web.ops import signals  # noqa: F401  (connects the receivers)
