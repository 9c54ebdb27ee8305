from django.urls import path

from fibrosurvey.web.ops import views

app_name = "ops"
urlpatterns = [
    path("accounts/2fa/setup/", views.setup, name="2fa_setup"),
    path("accounts/2fa/verify/", views.verify, name="2fa_verify"),
    path("studies/<int:study_id>/security/", views.study_security, name="study_security"),
]
