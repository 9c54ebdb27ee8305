from django.urls import path

from fibrosurvey.web.labs import views

app_name = "labs"
urlpatterns = [
    path("studies/<int:study_id>/labs/", views.sample_list, name="samples"),
    path("studies/<int:study_id>/labs/import/", views.import_labs, name="import"),
    path("studies/<int:study_id>/labs/template.csv", views.template_csv, name="template"),
    path(
        "studies/<int:study_id>/labs/corrections/",
        views.import_corrections,
        name="import_corrections",
    ),
    path(
        "studies/<int:study_id>/labs/results/<int:result_id>/",
        views.correct_result,
        name="correct_result",
    ),
]
