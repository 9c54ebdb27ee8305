"""URL map. Apps own their routes; optional apps (labs, exports, analyses, api) plug in
when present so either web engineer can land first."""

from __future__ import annotations

import importlib
from importlib.util import find_spec

from django.contrib import admin
from django.urls import include, path

from fibrosurvey.web.admin_site import restrict_admin_to_superusers

restrict_admin_to_superusers(admin.site)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("fibrosurvey.web.accounts.urls")),
    path("s/", include("fibrosurvey.web.survey.urls")),
    path("studies/", include("fibrosurvey.web.participants.urls")),
    path("studies/", include("fibrosurvey.web.studies.urls")),
    path("", include("fibrosurvey.web.jobs.urls")),
    path("", include("fibrosurvey.web.dashboard.urls")),
]

for _app in ("labs", "exports", "analyses", "api"):
    _module = f"fibrosurvey.web.{_app}.urls"
    if find_spec(f"fibrosurvey.web.{_app}") is not None and find_spec(_module) is not None:
        urlpatterns.append(path("", include(importlib.import_module(_module))))

# Security/ops pages (2FA setup and verification, study security policy).
urlpatterns.append(path("", include("fibrosurvey.web.ops.urls")))

# A database briefly out of reach answers 503 + Retry-After instead of 500 (ops.errors).
handler500 = "fibrosurvey.web.ops.errors.server_error"
