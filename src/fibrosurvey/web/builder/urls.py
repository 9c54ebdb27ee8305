from django.urls import path

from fibrosurvey.web.builder import library_views, setup_views

app_name = "builder"
urlpatterns = [
    path("studies/<int:study_id>/settings/", setup_views.study_settings, name="settings"),
    path("studies/<int:study_id>/consent/", setup_views.consent, name="consent"),
    path("studies/<int:study_id>/events/", setup_views.events, name="events"),
    path("studies/<int:study_id>/events/<int:event_id>/", setup_views.event, name="event"),
    path("studies/<int:study_id>/instruments/", library_views.index, name="instruments"),
    path("studies/<int:study_id>/instruments/save/", library_views.save, name="save_instruments"),
    path(
        "studies/<int:study_id>/instruments/<slug:instrument_id>/<int:number>/",
        library_views.version,
        name="instrument_version",
    ),
]
