from django.urls import path

from fibrosurvey.web.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("studies/<int:study_id>/", views.study, name="study"),
    path("studies/<int:study_id>/audit/", views.audit_trail, name="audit"),
    path("studies/<int:study_id>/alerts/", views.alert_list, name="alerts"),
    path("studies/<int:study_id>/alerts/<int:alert_id>/", views.alert_case, name="alert_case"),
]
