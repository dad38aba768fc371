"""FastAPI dependencies: reach the services the app holds, read uploads within limits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from starlette.datastructures import UploadFile

from facebank.errors import ImageInvalidError, ImageTooLargeError
from facebank.pipeline.executor import InferenceExecutor
from facebank.services.container import Services

T = TypeVar("T")

READ_CHUNK = 1024 * 1024


async def get_services(request: Request) -> Services:
    # async although it does no I/O: FastAPI runs a plain `def` dependency on the thread
    # pool: a thread hop per request for nothing, on the path of every recognise.
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


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
