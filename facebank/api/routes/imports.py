"""Bulk imports over HTTP: upload a zip (a folder per person, or a CSV / JSON lines table
with its photos), then follow the background job and read its report."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Header, Query, Request, status
from fastapi.responses import Response

from facebank.api import schemas
from facebank.api.answers import PageNumber, PageSize, offset, page_out
from facebank.api.deps import ImportsDep
from facebank.api.import_schemas import (
    ImportJobOut,
    ImportJobsPage,
    ImportReportOut,
    job_out,
)
from facebank.api.security import ImportRunner, Reader
from facebank.api.upload_stream import stream_upload
from facebank.errors import ValidationFailedError
from facebank.services.import_jobs import ImportJobService
from facebank.services.photos import FaceChoice
from facebank.store.import_jobs import ImportJobRecord
from facebank.store.limits import FILENAME_MAX
from facebank.store.paging import Page

IMPORTS_PATH = "/api/v1/imports"  # its own body limit: settings.import_max_upload_bytes
FILE_FIELD = "file"
CSV_TYPE = "text/csv"

router = APIRouter(prefix=IMPORTS_PATH, tags=["imports"])

ERRORS = schemas.error_responses(400, 401, 403, 404, 409, 413, 422)

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FILE_FIELD],
                    "properties": {
                        FILE_FIELD: {
                            "type": "string",
                            "format": "binary",
                            "description": "a zip: a folder per person (photos inside), or "
                            "one .csv/.jsonl table at its root with the photos it names",
                        },
                        "columns": {
                            "type": "string",
                            "description": 'a JSON object FIELD -> COLUMN, e.g. {"name": '
                            '"full_name"} (fields: external_id, name, age, gender, address, '
                            "photos)",
                        },
                        "face_choice": {"type": "string", "enum": [c.value for c in FaceChoice]},
                    },
                }
            }
        },
    }
}


def _out(job: ImportJobRecord) -> ImportJobOut:
    return job_out(job, f"{IMPORTS_PATH}/{job.id}/report")


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ImportJobOut,
    responses=ERRORS,
    openapi_extra=UPLOAD_BODY,
    summary="Upload a zip to import in the background (409 while another import runs)",
)
async def create_import(request: Request, actor: ImportRunner, imports: ImportsDep) -> ImportJobOut:
    await anyio.to_thread.run_sync(imports.ensure_free)  # 409 before the upload is read
    staging = await anyio.to_thread.run_sync(imports.new_staging)
    try:
        form = await stream_upload(request, FILE_FIELD, imports.upload_path(staging))
        columns, choice = _options(form.fields)
        job = await anyio.to_thread.run_sync(
            imports.submit, actor, staging, _filename(form.filename), columns, choice
        )
    except BaseException:
        imports.discard(staging)  # a refused or broken upload leaves nothing
        raise
    return _out(job)


def _options(fields: dict[str, str]) -> tuple[dict[str, str], FaceChoice]:
    choice_text = fields.get("face_choice") or FaceChoice.AUTO.value
    try:
        choice = FaceChoice(choice_text)
    except ValueError:
        valid = ", ".join(c.value for c in FaceChoice)
        raise ValidationFailedError(
            f"face_choice must be one of {valid}", field="face_choice"
        ) from None
    return _columns(fields.get("columns") or ""), choice


def _columns(text: str) -> dict[str, str]:
    if not text.strip():
        return {}
    try:
        columns: Any = json.loads(text)
    except json.JSONDecodeError:
        columns = None
    if not isinstance(columns, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in columns.items()
    ):
        raise ValidationFailedError(
            'columns must be a JSON object of field names to column names, e.g. {"name": "ten"}',
            field="columns",
        )
    return {k: v.strip() for k, v in columns.items()}


def _filename(name: str | None) -> str:
    base = PurePath((name or "").replace("\\", "/")).name.strip()
    return (base or "upload.zip")[:FILENAME_MAX]


@router.get(
    "", response_model=ImportJobsPage, responses=ERRORS, summary="List imports, newest first"
)
def list_imports(
    imports: ImportsDep, _: Reader, page: PageNumber = 1, page_size: PageSize = 50
) -> ImportJobsPage:
    result = imports.page(offset(page, page_size), page_size)
    answers = Page([_out(job) for job in result.items], result.total, result.offset, result.limit)
    return page_out(ImportJobsPage, answers, page, page_size)


@router.get(
    "/{job_id}",
    response_model=ImportJobOut,
    responses=ERRORS,
    summary="An import's state, counts, rate, ETA and elapsed time",
)
def get_import(job_id: int, imports: ImportsDep, _: Reader) -> ImportJobOut:
    return _out(imports.get(job_id))


@router.get(
    "/{job_id}/report",
    response_model=ImportReportOut,
    responses={**ERRORS, 200: {"content": {CSV_TYPE: {"schema": {"type": "string"}}}}},
    summary="The ended import's report: counts and every skipped photo or row (JSON, or "
    "CSV with ?format=csv or Accept: text/csv)",
)
def get_report(
    job_id: int,
    imports: ImportsDep,
    _: Reader,
    format_: Annotated[Literal["json", "csv"] | None, Query(alias="format")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Any:
    if format_ == "csv" or (format_ is None and CSV_TYPE in (accept or "")):
        return _csv(imports, job_id)
    return imports.report(job_id)


def _csv(imports: ImportJobService, job_id: int) -> Response:
    body = imports.report_csv(job_id)
    headers = {"Content-Disposition": f'attachment; filename="import-{job_id}-report.csv"'}
    return Response(body, media_type=f"{CSV_TYPE}; charset=utf-8", headers=headers)
