from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fibrosurvey.web.builder.models import InstrumentVersion

SOURCE_CHOICES = [
    (InstrumentVersion.Source.YAML, _("Instrument definition (our YAML schema)")),
    (InstrumentVersion.Source.REDCAP, _("REDCap data dictionary (CSV)")),
    (InstrumentVersion.Source.FHIR, _("FHIR Questionnaire (JSON)")),
]


class UploadInstrumentForm(forms.Form):
    source_kind = forms.ChoiceField(label=_("File format"), choices=SOURCE_CHOICES)
    upload = forms.FileField(label=_("File"))
