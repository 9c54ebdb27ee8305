from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "fibrosurvey.web.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from fibrosurvey.web.audit import signals  # noqa: F401  (connects receivers)
