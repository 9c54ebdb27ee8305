"""``assess_recruitment``: run the completed-survey quality checks of every open link now
(page times, straight-lining, near-identical answers). The flow page and the analysis
columns run them too; from cron this keeps those pages quick on large studies."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from fibrosurvey.web.recruitment.flow import do_assess_completed
from fibrosurvey.web.recruitment.models import OpenLink


class Command(BaseCommand):
    help = "Check newly completed open-link surveys and raise their quality flags."

    def handle(self, *args: Any, **options: Any) -> None:
        for link in OpenLink.objects.select_related("study").order_by("pk"):
            assessed = do_assess_completed(link.study)
            self.stdout.write(f"study {link.study_id} ({link.slug}): {assessed} assessed")
