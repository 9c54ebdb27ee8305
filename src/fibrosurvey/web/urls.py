"""URL map: each app owns its routes."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from fibrosurvey.web.admin_site import restrict_admin_to_superusers

restrict_admin_to_superusers(admin.site)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("fibrosurvey.web.accounts.urls")),
    path("s/", include("fibrosurvey.web.survey.urls")),
    path("studies/", include("fibrosurvey.web.participants.urls")),
    path("studies/", include("fibrosurvey.web.survey.staff_urls")),
    path("studies/", include("fibrosurvey.web.studies.urls")),
    path("", include("fibrosurvey.web.builder.urls")),
    path("", include("fibrosurvey.web.jobs.urls")),
    path("", include("fibrosurvey.web.dashboard.urls")),
    path("", include("fibrosurvey.web.labs.urls")),
    path("", include("fibrosurvey.web.exports.urls")),
    path("", include("fibrosurvey.web.analyses.urls")),
    path("", include("fibrosurvey.web.recruitment.urls")),
    # The REST API at /api/ (docs at /api/docs) and the API token pages.
    path("", include("fibrosurvey.web.api.urls")),
    # Operations endpoints (the liveness ping).
    path("", include("fibrosurvey.web.ops.urls")),
]

# A database briefly out of reach answers 503 + Retry-After instead of 500 (ops.errors).
handler500 = "fibrosurvey.web.ops.errors.server_error"
