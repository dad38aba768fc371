"""FastAPI dependencies: reach the services the app holds, read uploads within limits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from starlette.datastructures import UploadFile

from facebank.config import Settings
from facebank.errors import ImageInvalidError, ImageTooLargeError
from facebank.observability.metrics import Metrics
from facebank.pipeline.executor import InferenceExecutor
from facebank.services.accounts import AccountService
from facebank.services.api_keys import ApiKeyService
from facebank.services.audit import AuditService
from facebank.services.authenticator import Authenticator
from facebank.services.calibration import CalibrationService
from facebank.services.container import Services
from facebank.services.exporter import Exporter
from facebank.services.gallery import GalleryService
from facebank.services.import_jobs import ImportJobService
from facebank.services.index_sync import IndexManager
from facebank.services.negatives import NegativeService
from facebank.services.people_fix import PeopleFixService
from facebank.services.recognition import RecognitionService
from facebank.services.sessions import SessionService
from facebank.services.unknown_actions import UnknownActions
from facebank.services.unknowns import UnknownService
from facebank.services.web_sessions import WebSessionService

T = TypeVar("T")

READ_CHUNK = 1024 * 1024


async def get_services(request: Request) -> Services:
    # async although it does no I/O: FastAPI runs a plain `def` dependency on the thread
    # pool: a thread hop per request for nothing, on the path of every recognise.
    services: Services = request.app.state.services
    return services


# Only the health routes take the whole container: they report on every part of it.
ServicesDep = Annotated[Services, Depends(get_services)]


def _part(pick: Callable[[Services], T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency that hands a route one service of the container, never the container."""

    async def get(request: Request) -> T:  # async: see get_services
        return pick(request.app.state.services)

    return get


SettingsDep = Annotated[Settings, Depends(_part(lambda s: s.settings))]
GalleryDep = Annotated[GalleryService, Depends(_part(lambda s: s.gallery))]
RecognitionDep = Annotated[RecognitionService, Depends(_part(lambda s: s.recognition))]
IndexDep = Annotated[IndexManager, Depends(_part(lambda s: s.index))]
SessionsDep = Annotated[SessionService, Depends(_part(lambda s: s.sessions))]
ImportsDep = Annotated[ImportJobService, Depends(_part(lambda s: s.imports))]
AccountsDep = Annotated[AccountService, Depends(_part(lambda s: s.auth.accounts))]
ApiKeysDep = Annotated[ApiKeyService, Depends(_part(lambda s: s.auth.api_keys))]
AuditDep = Annotated[AuditService, Depends(_part(lambda s: s.auth.audit))]
MetricsDep = Annotated[Metrics, Depends(_part(lambda s: s.metrics))]
AuthenticatorDep = Annotated[Authenticator, Depends(_part(lambda s: s.auth.authenticator))]
ExporterDep = Annotated[Exporter, Depends(_part(lambda s: s.exporter))]
CalibrationDep = Annotated[CalibrationService, Depends(_part(lambda s: s.calibration))]
NegativesDep = Annotated[NegativeService, Depends(_part(lambda s: s.negatives))]
PeopleFixDep = Annotated[PeopleFixService, Depends(_part(lambda s: s.people_fix))]
WebSessionsDep = Annotated[WebSessionService, Depends(_part(lambda s: s.auth.web_sessions))]
UnknownsDep = Annotated[UnknownService, Depends(_part(lambda s: s.unknowns.keeper))]
UnknownActionsDep = Annotated[UnknownActions, Depends(_part(lambda s: s.unknowns.actions))]


class Inference:
    """Runs CPU-bound model work off the event loop, on the inference executor's lanes
    (wide lane for a lone request, single-thread lanes under load; see
    facebank.pipeline.executor)."""

    def __init__(self, executor: InferenceExecutor) -> None:
        self._executor = executor

    async def run(self, func: Callable[..., T], *args: object) -> T:
        # Cancelling the await (client gone) cancels the job if it has not started yet.
        return await asyncio.wrap_future(self._executor.submit(func, *args))


async def get_inference(request: Request) -> Inference:
    services: Services = request.app.state.services  # async for the same reason
    return Inference(services.executor)


InferenceDep = Annotated[Inference, Depends(get_inference)]


async def read_upload(upload: UploadFile, max_bytes: int, field: str) -> bytes:
    """Read an uploaded file, refusing it as soon as it passes the byte limit."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await upload.read(READ_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise ImageTooLargeError(
                f"{field} is over the limit of {max_bytes} bytes", field=field, limit=max_bytes
            )
        chunks.append(chunk)
    if size == 0:
        raise ImageInvalidError(f"{field} is empty", field=field)
    return b"".join(chunks)
