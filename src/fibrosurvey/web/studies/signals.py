"""Any change to an event's battery renews ``Event.battery_key`` (the page-plan cache key)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from fibrosurvey.web.studies.models import Event, EventInstrument


@receiver(post_save, sender=EventInstrument)
@receiver(post_delete, sender=EventInstrument)
def renew_battery_key(sender: Any, instance: EventInstrument, **kwargs: Any) -> None:
    Event.objects.filter(pk=instance.event_id).update(battery_key=uuid.uuid4())
