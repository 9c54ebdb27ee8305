from django.urls import path

from fibrosurvey.web.studies import views

app_name = "studies"
urlpatterns = [
    path("new/", views.create, name="create"),
    path("<int:study_id>/members/", views.members, name="members"),
    path("<int:study_id>/audit/", views.audit, name="audit"),
]
