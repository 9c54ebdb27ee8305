from django.apps import AppConfig


class LabsConfig(AppConfig):
    name = "fibrosurvey.web.labs"
    label = "labs"
    default_auto_field = "django.db.models.BigAutoField"
