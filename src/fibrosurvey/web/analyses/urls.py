from django.urls import path

from fibrosurvey.web.analyses import views

app_name = "analyses"
urlpatterns = [
    path("studies/<int:study_id>/analyses/", views.index, name="index"),
    path("studies/<int:study_id>/analyses/run/", views.run, name="run"),
    path("studies/<int:study_id>/analyses/<int:run_id>/", views.detail, name="detail"),
    path("studies/<int:study_id>/analyses/<int:run_id>/report/", views.report, name="report"),
]
