"""Request types for type checking: what a view may assume about ``request.user``."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, QueryDict

__all__ = ["AuthenticatedHttpRequest", "posted_data", "uploaded_file_name"]


class AuthenticatedHttpRequest(HttpRequest):
    """A request that reached a view through ``login_required`` (or ``study_view``): its
    user is a real account, never ``AnonymousUser``. Annotation only; Django builds the
    request object."""

    user: User


def uploaded_file_name(request: HttpRequest, field: str) -> str:
    """The client's name for the file uploaded as ``field`` (a form has checked it is there;
    its cleaned value may be the content, not the file)."""
    upload = request.FILES[field]
    assert isinstance(upload, UploadedFile), f"{field} holds no uploaded file"
    return upload.name or ""


def posted_data(request: HttpRequest) -> QueryDict | None:
    """A form's data: the POST body for a POST (even an empty one, which is then refused
    with its errors), None for a GET (an unbound form)."""
    return request.POST if request.method == "POST" else None
