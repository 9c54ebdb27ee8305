from typing import Any

from django.apps import AppConfig
from django.core import checks


class AuditConfig(AppConfig):
    name = "fibrosurvey.web.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from fibrosurvey.web.audit import signals  # noqa: F401  (connects receivers)

        checks.register(audit_key_configured)


def audit_key_configured(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """`migrate` (and so `serve`) stops early, naming the variable, when the key is unusable."""
    from django.core.exceptions import ImproperlyConfigured

    from fibrosurvey.web.audit.keys import audit_keys

    try:
        audit_keys()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="audit.E001")]
    return []
