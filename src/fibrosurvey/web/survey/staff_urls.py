from django.urls import path

from fibrosurvey.web.survey import staff_views

app_name = "survey_staff"
urlpatterns = [
    path(
        "<int:study_id>/participants/<int:participant_id>/reopen/<slug:event_code>/",
        staff_views.reopen,
        name="reopen",
    ),
    path(
        "<int:study_id>/participants/<int:participant_id>/enter/<slug:event_code>/<int:number>/",
        staff_views.enter,
        name="enter",
    ),
]
