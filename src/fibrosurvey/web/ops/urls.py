from django.urls import path

from fibrosurvey.web.ops import views

app_name = "ops"
urlpatterns = [
    # A trivial view through the full middleware stack: health checks and the load baseline.
    path("ops/ping/", views.ping, name="ping"),
]
