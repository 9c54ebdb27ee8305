from django.urls import path

from fibrosurvey.web.ops import views

app_name = "ops"
urlpatterns = [
    path("accounts/2fa/setup/", views.setup, name="2fa_setup"),
    path("accounts/2fa/verify/", views.verify, name="2fa_verify"),
    path("studies/<int:study_id>/security/", views.study_security, name="study_security"),
    # A trivial view through the full middleware stack: health checks and the load baseline.
    path("ops/ping/", views.ping, name="ping"),
]
