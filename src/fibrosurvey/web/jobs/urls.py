from django.urls import path

from fibrosurvey.web.jobs import views

app_name = "jobs"
urlpatterns = [
    path("studies/<int:study_id>/jobs/<int:job_id>/", views.detail, name="detail"),
]
