from django.urls import path

from fibrosurvey.web.survey import views

app_name = "survey"
urlpatterns = [
    path("<str:token>/", views.entry, name="entry"),
    path("<str:token>/consent/", views.consent, name="consent"),
    path("<str:token>/language/", views.language, name="language"),
    path("<str:token>/page/<int:number>/", views.page, name="page"),
    path("<str:token>/safety/<int:number>/", views.safety, name="safety"),
    path("<str:token>/done/", views.done, name="done"),
]
