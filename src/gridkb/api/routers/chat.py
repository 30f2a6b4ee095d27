"""The customer conversation: one message at a time (or streamed), and feedback on a reply."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from gridkb.api import schemas
from gridkb.api.auth import Caller
from gridkb.api.deps import Allowed, Service, audience_of
from gridkb.api.errors import error_responses

STREAM_PIECE = 12  # characters per server-sent event
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
router = APIRouter(tags=["chat"])


def _channel(who: Caller) -> str:
    return "agent" if who.staff else "widget"


@router.post("/api/chat", response_model=schemas.ChatResponse, responses=error_responses(404, 503))
def chat(body: schemas.ChatRequest, who: Allowed, service: Service) -> dict[str, Any]:
    """One customer message; a new conversation when ``session_id`` is null."""
    return service.chat(body.session_id, body.message, _channel(who), audience_of(who)).to_json()


@router.post(
    "/api/chat/stream", response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "`delta` events with pieces of the answer, then `done` with the whole reply"}, **error_responses(404, 503)},
)
async def chat_stream(body: schemas.ChatRequest, who: Allowed, service: Service) -> StreamingResponse:
    """The same reply as ``/api/chat``, as Server-Sent Events."""
    reply = await run_in_threadpool(service.chat, body.session_id, body.message, _channel(who), audience_of(who))
    return StreamingResponse(_events(reply.to_json()), media_type="text/event-stream", headers=STREAM_HEADERS)


@router.post("/api/feedback", response_model=schemas.FeedbackResponse, responses=error_responses(404))
def feedback(body: schemas.FeedbackRequest, who: Allowed, service: Service) -> dict[str, Any]:
    _, ticket = service.feedback(body.session_id, body.message_id, body.helpful, body.rating, body.comment or "")
    return {"ok": True, "ticket_id": ticket.number if ticket else None}


async def _events(reply: dict[str, Any]) -> AsyncIterator[bytes]:
    text = reply["answer"]
    for start in range(0, len(text), STREAM_PIECE):
        yield _sse("delta", {"text": text[start : start + STREAM_PIECE]})
        await asyncio.sleep(0.01)
    yield _sse("done", reply)


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()
