from django.urls import path

from fibrosurvey.web.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("studies/<int:study_id>/", views.study, name="study"),
    path(
        "studies/<int:study_id>/alerts/<int:alert_id>/acknowledge/",
        views.acknowledge_alert,
        name="acknowledge_alert",
    ),
]
