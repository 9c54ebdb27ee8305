from django.urls import path

from fibrosurvey.web.recruitment import views

app_name = "recruitment"
urlpatterns = [
    path("r/<slug:slug>/", views.landing, name="landing"),
    path("r/<slug:slug>/screener/", views.screener, name="screener"),
    path("r/<slug:slug>/closed/<str:outcome>/", views.closed, name="closed"),
    path("r/go/<str:token>/consent/", views.consent, name="consent"),
    path("r/go/<str:token>/contact/", views.contact, name="contact"),
    path("studies/<int:study_id>/recruitment/", views.flow, name="flow"),
]
