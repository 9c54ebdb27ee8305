"""``rotate_contact_keys``: re-encrypt every participant's contact details with the first key
in FIELD_ENCRYPTION_KEY, so older keys can then be removed from the list.

Key rotation: put the new key first (FIELD_ENCRYPTION_KEY=new,old), run this command, then
set FIELD_ENCRYPTION_KEY=new.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from fibrosurvey.web.participants.models import ContactDetails


class Command(BaseCommand):
    help = "Re-encrypt contact details with the newest FIELD_ENCRYPTION_KEY (the first one)."

    def handle(self, *args: Any, **options: Any) -> None:
        rotated = 0
        with transaction.atomic():
            # Loading decrypts with whichever key fits; saving encrypts with the first key.
            for contact in ContactDetails.objects.select_for_update().iterator(chunk_size=500):
                contact.save(update_fields=["email", "phone", "name"])
                rotated += 1
        self.stdout.write(f"re-encrypted contact details of {rotated} participants")
