from django.urls import path

from fibrosurvey.web.participants import views

app_name = "participants"
urlpatterns = [
    path("<int:study_id>/participants/", views.participant_list, name="list"),
    path("<int:study_id>/participants/new/", views.enrol, name="enrol"),
    path(
        "<int:study_id>/participants/invite/<slug:event_code>/",
        views.invite_all,
        name="invite_all",
    ),
    path(
        "<int:study_id>/participants/remind/<slug:event_code>/",
        views.remind_all,
        name="remind_all",
    ),
    path("<int:study_id>/participants/import/", views.enrol_csv, name="enrol_csv"),
    path("<int:study_id>/participants/<int:participant_id>/", views.detail, name="detail"),
    path(
        "<int:study_id>/participants/<int:participant_id>/contact/",
        views.contact,
        name="contact",
    ),
    path(
        "<int:study_id>/participants/<int:participant_id>/invite/<slug:event_code>/",
        views.invite,
        name="invite",
    ),
    path(
        "<int:study_id>/participants/<int:participant_id>/remind/<slug:event_code>/",
        views.remind,
        name="remind",
    ),
    path(
        "<int:study_id>/participants/<int:participant_id>/revoke/<slug:event_code>/",
        views.revoke,
        name="revoke",
    ),
    path(
        "<int:study_id>/participants/<int:participant_id>/withdraw/",
        views.withdraw,
        name="withdraw",
    ),
]
