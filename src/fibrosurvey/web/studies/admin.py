from django.contrib import admin

from fibrosurvey.web.studies.models import Event, EventInstrument, Membership, Site, Study


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ("name", "template", "consent_version", "created_at")
    inlines = [SiteInline, MembershipInline]


class EventInstrumentInline(admin.TabularInline):
    model = EventInstrument
    extra = 0


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("study", "code", "day_offset", "order")
    inlines = [EventInstrumentInline]
