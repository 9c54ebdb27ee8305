from django.urls import path

from fibrosurvey.web.studies import views

app_name = "studies"
urlpatterns = [
    path("new/", views.create, name="create"),
    path("<int:study_id>/members/", views.members, name="members"),
    path(
        "<int:study_id>/members/<int:member_id>/change/",
        views.change_member,
        name="change_member",
    ),
    path(
        "<int:study_id>/members/<int:member_id>/remove/",
        views.remove_member,
        name="remove_member",
    ),
    path("<int:study_id>/security/", views.security, name="security"),
]
