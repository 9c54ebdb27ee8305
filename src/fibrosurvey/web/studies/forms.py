from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from fibrosurvey.countries import DEFAULT_COUNTRY, country_choices
from fibrosurvey.web.ops.text import refuse_control_characters
from fibrosurvey.web.studies.codes import CODE_RULE, code_problem
from fibrosurvey.web.studies.models import Site, Study
from fibrosurvey.web.studies.roles import Role
from fibrosurvey.web.studies.templates_catalog import TEMPLATES


def study_country_choices() -> list[tuple[str, str]]:
    """The countries a study can run in, named in the staff member's language."""
    return country_choices((get_language() or "en")[:2])


class CreateStudyForm(forms.Form):
    name = forms.CharField(
        label=_("Study name"), max_length=200, validators=[refuse_control_characters]
    )
    template = forms.ChoiceField(
        label=_("Start from template"),
        choices=[(key, spec.name["en"]) for key, spec in TEMPLATES.items()],
    )
    country = forms.ChoiceField(
        label=_("Country"),
        choices=lambda: study_country_choices(),
        initial=DEFAULT_COUNTRY,
        required=False,  # left out (an older client): the default country
        help_text=_("Sets the regions, units, crisis numbers and drug examples participants see."),
    )
    sites = forms.CharField(
        label=_("Sites, one per line as code: name"),
        widget=forms.Textarea(attrs={"rows": 3}),
        initial="main: Main site",
    )

    def clean_country(self) -> str:
        return str(self.cleaned_data.get("country") or DEFAULT_COUNTRY)

    def clean_sites(self) -> list[tuple[str, str]]:
        sites = []
        for number, line in enumerate(self.cleaned_data["sites"].splitlines(), start=1):
            if not line.strip():
                continue
            code, sep, name = line.partition(":")
            code = code.strip()
            if not sep or not code:
                raise forms.ValidationError(
                    _("Line %(n)s: write code: name, e.g. north: North hospital"),
                    params={"n": number},
                )
            if code_problem(code):
                raise forms.ValidationError(
                    _("Line %(n)s: the site code %(code)s is not valid: use %(rule)s."),
                    params={"n": number, "code": code[:40], "rule": CODE_RULE},
                )
            refuse_control_characters(name)
            sites.append((code.lower(), name.strip() or code))
        if not sites:
            raise forms.ValidationError(_("Give at least one site."))
        return sites


class ChangeMemberForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    site = forms.ModelChoiceField(
        label=_("Limit to site"),
        queryset=Site.objects.none(),
        required=False,
        empty_label=_("all sites"),
    )

    def __init__(self, study: Study, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        site = self.fields["site"]
        assert isinstance(site, forms.ModelChoiceField)
        site.queryset = study.sites.all()


class AddMemberForm(ChangeMemberForm):
    """A member's role and site limit, and who: a user who is not a member yet."""

    username = forms.CharField(label=_("Username"), max_length=150)
    field_order = ["username", "role", "site"]

    def __init__(self, study: Study, *args: Any, **kwargs: Any) -> None:
        super().__init__(study, *args, **kwargs)
        self.study = study

    def clean_username(self) -> User:
        user = get_user_model().objects.filter(username=self.cleaned_data["username"]).first()
        if user is None:
            raise forms.ValidationError(_("No user with that username."))
        if self.study.memberships.filter(user=user).exists():
            raise forms.ValidationError(_("This user is already a member."))
        return user


class TwoFactorPolicyForm(forms.Form):
    require_two_factor = forms.BooleanField(
        label=_("Every member must use two-factor authentication"), required=False
    )
