"""The API (namespace "api", as django-ninja's docs page expects) and the token pages
(namespace "api_tokens"). No app_name here: each include carries its own namespace."""

from django.urls import include, path

from fibrosurvey.web.api import views
from fibrosurvey.web.api.api import api

token_patterns = [
    path("studies/<int:study_id>/api-tokens/", views.tokens, name="tokens"),
    path(
        "studies/<int:study_id>/api-tokens/<int:token_id>/revoke/",
        views.revoke,
        name="revoke",
    ),
]

urlpatterns = [
    path("api/", api.urls),
    path("", include((token_patterns, "api_tokens"))),
]
