"""The one audit helper every app calls: ``record(...)``.

Call it inside the same transaction as the change it describes, so a rolled-back change
leaves no audit record and a committed change always has one.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import models
from django.http import HttpRequest

from fibrosurvey.web.audit.models import AuditRecord

__all__ = ["client_ip", "record", "snapshot"]


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """JSON-safe dict of a model's concrete field values (FKs as ids), for before/after.

    Encrypted contact fields must never be passed here: pass ``fields`` that exclude them.
    """
    out: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        value = field.value_from_object(obj)
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif not isinstance(value, (str, int, float, bool, type(None), list, dict)):
            value = str(value)
        out[field.attname if field.is_relation else field.name] = value
    return out


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    action: str,
    *,
    actor: User | AnonymousUser | None = None,
    actor_label: str = "",
    study: models.Model | int | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    before: Any = None,
    after: Any = None,
    request: HttpRequest | None = None,
) -> AuditRecord:
    """Write one audit record.

    actor: a User (anonymous users are stored as null with actor_label "anonymous").
    study: a Study or a study id. obj: the model instance changed/viewed (sets type/id/repr).
    before/after: JSON-serialisable values (use ``snapshot``); None for create/delete sides.
    """
    account: User | None = None
    if isinstance(actor, AnonymousUser):
        actor_label = actor_label or "anonymous"
    else:
        account = actor
    if request is not None and account is None and not actor_label:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            account = user
    if account is not None and not actor_label:
        # The username stays readable in the trail after the account is deleted.
        actor_label = account.get_username()
    object_repr = ""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = str(obj)[:200]
    study_id = study.pk if isinstance(study, models.Model) else study
    return AuditRecord.objects.create(
        actor=account,
        actor_label=actor_label[:150],
        action=action,
        study_id=study_id,
        object_type=object_type,
        object_id=str(object_id) if object_id != "" else "",
        object_repr=object_repr,
        before=before,
        after=after,
        ip_address=client_ip(request),
    )
