"""The whole gallery as one archive (the format of `facebank export`), streamed to an admin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import anyio.to_thread
from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from facebank.api import schemas
from facebank.api.deps import AuditDep, ExporterDep
from facebank.api.security import GalleryExporter
from facebank.auth.clock import system_clock
from facebank.services.export_archive import ARCHIVE_SUFFIX, MEDIA_TYPE
from facebank.services.export_stream import ExportStream, stream_export

router = APIRouter(prefix="/api/v1/export", tags=["export"])

ERRORS = schemas.error_responses(401, 403)
ARCHIVE_RESPONSE = {
    "description": "the export archive: people.jsonl, faces.jsonl, photos/, manifest.json",
    "content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
}


def archive_filename(now: datetime) -> str:
    return f"facebank-export-{now.strftime('%Y%m%dT%H%M%SZ')}{ARCHIVE_SUFFIX}"


class ArchiveResponse(StreamingResponse):
    """Streams an ExportStream and closes it however the response ends (client gone
    included), which stops its writer thread."""

    def __init__(self, export: ExportStream, first: bytes, filename: str) -> None:
        self._export = export
        super().__init__(
            _chunks(export, first),
            # Per instance, not a class attribute: FastAPI would document the JSON errors
            # of this route as application/zip too.
            media_type=MEDIA_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",  # a proxy should stream it, not spool it
            },
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._export.close()


async def _chunks(export: ExportStream, first: bytes) -> AsyncIterator[bytes]:
    chunk = first
    while chunk:
        yield chunk
        chunk = await anyio.to_thread.run_sync(export.read)


@router.get(
    "",
    status_code=200,  # ArchiveResponse takes no status: FastAPI cannot find it there
    response_class=ArchiveResponse,
    responses={**ERRORS, 200: ARCHIVE_RESPONSE},
    summary="Download the whole gallery (people, faces with embeddings, photos) as a zip",
)
async def export_gallery(
    actor: GalleryExporter, exporter: ExporterDep, audit: AuditDep
) -> ArchiveResponse:
    export = stream_export(exporter, audit, actor)
    try:
        # Wait for the first bytes: a failure before any (database away) is still an
        # error answer, not a 200 with a broken body.
        first = await anyio.to_thread.run_sync(export.read)
    except BaseException:
        export.close()
        raise
    return ArchiveResponse(export, first, archive_filename(system_clock()))
