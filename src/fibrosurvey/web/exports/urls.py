from django.urls import path

from fibrosurvey.web.exports import views

app_name = "exports"
urlpatterns = [
    path("studies/<int:study_id>/exports/", views.index, name="index"),
    path(
        "studies/<int:study_id>/exports/<str:export_format>/",
        views.download,
        name="download",
    ),
]
