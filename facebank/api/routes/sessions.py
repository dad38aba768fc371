"""Live camera sessions: start, list, read, stop, events (paged and streamed), evidence,
webhook deliveries and replays."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Header, Query, Request, status
from fastapi.responses import FileResponse, StreamingResponse

from facebank.api import schemas
from facebank.api import sessions_schemas as out
from facebank.api.answers import PageNumber, PageSize, offset, page_out
from facebank.api.deps import SessionsDep
from facebank.api.security import Reader, SessionRunner
from facebank.services.sessions import SessionService
from facebank.sessions.events import EventType, EvidenceKind
from facebank.store.limits import KEY_MAX
from facebank.store.sessions import DeliveryStatus, SessionStatus

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])

ERRORS = schemas.error_responses(400, 401, 403, 404, 409, 422)
STREAM_POLL_S = 0.5
STREAM_STATUS_EVERY_S = 2.0
EVENT_PAGE = 100


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=out.SessionOut,
    responses=ERRORS,
    summary="Start a session (409 while another session with the same key is active)",
)
def start_session(
    body: out.SessionStart, sessions: SessionsDep, actor: SessionRunner
) -> out.SessionOut:
    return out.session_out(sessions.start(actor, body))


@router.get("", response_model=out.SessionsPage, responses=ERRORS, summary="List sessions")
def list_sessions(
    sessions: SessionsDep,
    _: Reader,
    status_: Annotated[
        list[SessionStatus] | None,
        Query(alias="status", description="any of these (repeat it: ended and failed = past)"),
    ] = None,
    key: Annotated[str | None, Query(max_length=KEY_MAX)] = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> out.SessionsPage:
    result = sessions.search(set(status_ or ()), key, offset(page, page_size), page_size)
    return page_out(out.SessionsPage, result, page, page_size)


@router.get(
    "/{session_id}",
    response_model=out.SessionOut,
    responses=ERRORS,
    summary="Status, cameras (state, measured fps, dropped frames) and people seen",
)
def get_session(session_id: int, sessions: SessionsDep, _: Reader) -> out.SessionOut:
    return out.session_out(sessions.get(session_id))


@router.post(
    "/{session_id}/stop",
    response_model=out.SessionOut,
    responses=ERRORS,
    summary="Stop the session; returns the final summary (stopping twice is harmless)",
)
def stop_session(session_id: int, sessions: SessionsDep, actor: SessionRunner) -> out.SessionOut:
    return out.session_out(sessions.stop(actor, session_id))


@router.get(
    "/{session_id}/events",
    response_model=out.EventsPage,
    responses=ERRORS,
    summary="The session's events, oldest first, after a cursor",
)
def list_events(
    session_id: int,
    sessions: SessionsDep,
    _: Reader,
    after: Annotated[int, Query(ge=0, le=2**63 - 1, description="seq of the last seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    type_: Annotated[list[EventType] | None, Query(alias="type")] = None,
) -> out.EventsPage:
    items = sessions.events(session_id, after, limit + 1, set(type_ or ()) or None)
    page = [out.event_out(e) for e in items[:limit]]
    return out.EventsPage(
        items=page, next_after=page[-1].seq if page else after, has_more=len(items) > limit
    )


@router.get(
    "/{session_id}/events/{event_id}/evidence/{kind}",
    response_class=FileResponse,
    responses={**ERRORS, 200: {"content": {"image/jpeg": {}}}},
    summary="The face crop or the full frame kept for a recognition",
)
def evidence(
    session_id: int,
    event_id: str,
    kind: EvidenceKind,
    sessions: SessionsDep,
    _: Reader,
) -> FileResponse:
    path = sessions.evidence(session_id, event_id, kind)
    return FileResponse(path, media_type="image/jpeg", filename=f"{event_id}-{kind}.jpg")


@router.get(
    "/{session_id}/stream",
    responses={**ERRORS, 200: {"content": {"text/event-stream": {}}}},
    summary="Server-Sent Events: every event as it is stored, plus a status snapshot every "
    "few seconds; ends after the session does. Resumes after Last-Event-ID.",
)
async def stream(
    session_id: int,
    request: Request,
    sessions: SessionsDep,
    _: Reader,
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    await anyio.to_thread.run_sync(sessions.get, session_id)  # 404 before streaming
    if last_event_id is not None and last_event_id.isdigit():
        after = int(last_event_id)
    return StreamingResponse(
        _events(request, sessions, session_id, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    request: Request, sessions: SessionService, session_id: int, after: int
) -> AsyncIterator[str]:
    next_status = 0.0
    while not await request.is_disconnected():
        ended = False
        if time.monotonic() >= next_status:
            next_status = time.monotonic() + STREAM_STATUS_EVERY_S
            view = await anyio.to_thread.run_sync(sessions.get, session_id)
            yield f"event: status\ndata: {out.session_out(view).model_dump_json()}\n\n"
            # The final event is stored with the status change, so reading the events after
            # seeing the end sends them all.
            ended = view.record.status != "active"
        while True:
            batch = await anyio.to_thread.run_sync(sessions.events, session_id, after, EVENT_PAGE)
            for event in batch:
                body = out.event_out(event).model_dump_json()
                yield f"id: {event.seq}\nevent: {event.type}\ndata: {body}\n\n"
                after = event.seq
            if len(batch) < EVENT_PAGE:
                break
        if ended:
            yield f"event: end\ndata: {json.dumps({'status': view.record.status})}\n\n"
            return
        await asyncio.sleep(STREAM_POLL_S)


@router.get(
    "/{session_id}/deliveries",
    response_model=out.DeliveriesPage,
    responses=ERRORS,
    summary="Webhook deliveries of the session's events",
)
def list_deliveries(
    session_id: int,
    sessions: SessionsDep,
    _: Reader,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> out.DeliveriesPage:
    result = sessions.deliveries(session_id, status_, offset(page, page_size), page_size)
    return page_out(out.DeliveriesPage, result, page, page_size)


@router.get(
    "/{session_id}/deliveries/{delivery_id}",
    response_model=out.DeliveryDetail,
    responses=ERRORS,
    summary="One delivery with every attempt",
)
def get_delivery(
    session_id: int, delivery_id: int, sessions: SessionsDep, _: Reader
) -> out.DeliveryDetail:
    return out.delivery_detail(*sessions.delivery(session_id, delivery_id))


@router.post(
    "/{session_id}/events/{event_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=out.DeliveryOut,
    responses=ERRORS,
    summary="Deliver an event to the webhook once more (same event id and body)",
)
def replay_event(
    session_id: int, event_id: str, sessions: SessionsDep, actor: SessionRunner
) -> out.DeliveryOut:
    return out.delivery_out(sessions.replay(actor, session_id, event_id))


@router.post(
    "/{session_id}/deliveries/replay-failed",
    response_model=out.ReplayedOut,
    responses=ERRORS,
    summary="Retry every delivery of the session that gave up",
)
def replay_failed(session_id: int, sessions: SessionsDep, actor: SessionRunner) -> out.ReplayedOut:
    return out.ReplayedOut(requeued=sessions.replay_failed(actor, session_id))
