from django import forms
from django.contrib import admin

from fibrosurvey.web.studies.codes import validate_code
from fibrosurvey.web.studies.models import Event, EventInstrument, Membership, Site, Study


class SiteForm(forms.ModelForm[Site]):
    """Site codes follow the study-code rule here too (they reach every export)."""

    class Meta:
        model = Site
        fields = ("code", "name")

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"]
        validate_code(code)
        return code


class SiteInline(admin.TabularInline[Site, Study]):
    model = Site
    form = SiteForm
    extra = 0


class MembershipInline(admin.TabularInline[Membership, Study]):
    model = Membership
    extra = 0


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin[Study]):
    list_display = ("name", "template", "consent_version", "created_at")
    inlines = [SiteInline, MembershipInline]


class EventInstrumentInline(admin.TabularInline[EventInstrument, Event]):
    model = EventInstrument
    extra = 0


@admin.register(Event)
class EventAdmin(admin.ModelAdmin[Event]):
    list_display = ("study", "code", "day_offset", "order")
    inlines = [EventInstrumentInline]
