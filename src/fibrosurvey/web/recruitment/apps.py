from django.apps import AppConfig


class RecruitmentConfig(AppConfig):
    name = "fibrosurvey.web.recruitment"
    label = "recruitment"
    default_auto_field = "django.db.models.BigAutoField"
