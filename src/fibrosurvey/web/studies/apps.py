from django.apps import AppConfig


class StudiesConfig(AppConfig):
    name = "fibrosurvey.web.studies"
    label = "studies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from fibrosurvey.web.studies import signals  # noqa: F401  (connects receivers)
