from django.apps import AppConfig


class BuilderConfig(AppConfig):
    """The study builder: the owner's settings pages and the study's own instruments."""

    name = "fibrosurvey.web.builder"
    label = "builder"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from fibrosurvey.web.builder.active import study_instruments
        from fibrosurvey.web.studies.permissions import add_study_request_context

        # Every staff page of a study resolves the study's own instruments by id.
        add_study_request_context(study_instruments)
