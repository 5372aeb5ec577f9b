"""A section's private links to its hand-in pack, sent by email when the pack is too
large to attach. The link is the capability (signed, expiring): it opens that one
member's PDF or CSV, streamed from the batch's ZIP, and nothing else."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from undersigned.openletters import handin, pack_mail


def _file(token: str, extension: str, content_type: str) -> FileResponse:
    pack = pack_mail.pack_from_token(token)
    handle = handin.open_member_file(pack, extension) if pack is not None else None
    if pack is None or handle is None:
        raise Http404("This link has expired or the pack is gone")
    response = FileResponse(handle, as_attachment=True, filename=f"{pack.arcname}.{extension}")
    response["Content-Type"] = content_type
    # Names of endorsers: no shared cache may keep a copy.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def pack_pdf(request: HttpRequest, token: str) -> FileResponse:
    return _file(token, "pdf", "application/pdf")


@require_GET
def pack_csv(request: HttpRequest, token: str) -> FileResponse:
    return _file(token, "csv", "text/csv; charset=utf-8")
