from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fibrosurvey.web.labs.services import MAX_LAB_FILE_BYTES

__all__ = ["LabImportForm"]


class LabImportForm(forms.Form):
    file = forms.FileField(label=_("Lab results CSV (UTF-8)"))

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_LAB_FILE_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return bytes(upload.read())
