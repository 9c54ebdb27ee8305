from django.apps import AppConfig


class AnalysesConfig(AppConfig):
    name = "fibrosurvey.web.analyses"
    label = "analyses"
    default_auto_field = "django.db.models.BigAutoField"
