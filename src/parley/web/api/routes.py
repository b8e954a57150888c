"""Routes of the staff API: translate HTTP to use cases and nothing more."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response

from parley.domain.idempotency import KEY_HEADER
from parley.services import audit, contacts, conversations, inbox, matters, messages
from parley.services.idempotency import Posted
from parley.services.pagination import MAX_PAGE_SIZE
from parley.services.views import (
    ContactView,
    ConversationView,
    InboxItemView,
    MatterView,
    MessageView,
    PostedMessageView,
)
from parley.web.api.schemas import (
    AuditEntryOut,
    FileFromInbox,
    NewContact,
    NewConversation,
    NewMatter,
    NewMessage,
    PageOut,
)
from parley.web.deps import Ctx, Staff
from parley.web.errors import documented_errors

router = APIRouter(
    prefix="/api/v1",
    responses=documented_errors(401, 404, 413, 422),
)

PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page.")]
PageCursor = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=KEY_HEADER,
        description="Any new value (a UUID is best) for each message to send: the same "
        "request sent again with it in the next 24 hours is answered as the first was, "
        "with `Idempotent-Replayed: true`, and texts no one again. Sent with a different "
        "request, it is refused with 422.",
    ),
]
REPLAYED = "Idempotent-Replayed"
TEXTS_CLIENTS: dict[int | str, dict[str, Any]] = {
    201: {
        "headers": {
            REPLAYED: {
                "description": f"`true` when the request came again with its {KEY_HEADER}: "
                "the answer is the first one's, and no one was texted again.",
                "schema": {"type": "string", "enum": ["true"]},
            }
        }
    }
}


def _answer(posted: Posted, response: Response) -> PostedMessageView:
    if posted.again:
        response.headers[REPLAYED] = "true"
    return posted.message


@router.post("/contacts", status_code=201, tags=["contacts"])
async def create_contact(ctx: Ctx, scope: Staff, new: NewContact) -> ContactView:
    return await contacts.create_contact(
        ctx, scope, name=new.name, email=new.email, mobile_phone=new.mobile_phone
    )


@router.get("/contacts/{contact_id}", tags=["contacts"])
async def get_contact(ctx: Ctx, scope: Staff, contact_id: uuid.UUID) -> ContactView:
    return await contacts.get_contact(ctx, scope, contact_id)


@router.post("/matters", status_code=201, tags=["matters"])
async def create_matter(ctx: Ctx, scope: Staff, new: NewMatter) -> MatterView:
    return await matters.create_matter(ctx, scope, title=new.title, reference=new.reference)


@router.get("/matters/{matter_id}", tags=["matters"])
async def get_matter(ctx: Ctx, scope: Staff, matter_id: uuid.UUID) -> MatterView:
    return await matters.get_matter(ctx, scope, matter_id)


@router.post("/conversations", status_code=201, tags=["conversations"])
async def start_conversation(ctx: Ctx, scope: Staff, new: NewConversation) -> ConversationView:
    return await conversations.start_conversation(
        ctx,
        scope,
        matter_id=new.matter_id,
        subject=new.subject,
        participant_ids=new.participant_ids,
    )


@router.get("/conversations", tags=["conversations"])
async def list_conversations(
    ctx: Ctx, scope: Staff, limit: PageSize = 50, cursor: PageCursor = None
) -> PageOut[ConversationView]:
    page = await conversations.list_conversations(ctx, scope, limit=limit, cursor=cursor)
    return PageOut(items=page.items, next_cursor=page.next_cursor)


@router.get("/conversations/{conversation_id}", tags=["conversations"])
async def get_conversation(ctx: Ctx, scope: Staff, conversation_id: uuid.UUID) -> ConversationView:
    return await conversations.get_conversation(ctx, scope, conversation_id)


@router.get("/conversations/{conversation_id}/audit", tags=["conversations"])
async def audit_trail(
    ctx: Ctx,
    scope: Staff,
    conversation_id: uuid.UUID,
    limit: PageSize = 50,
    cursor: PageCursor = None,
) -> PageOut[AuditEntryOut]:
    """Who sent, resent or filed what in the conversation, and when; oldest first."""
    page = await audit.audit_trail(ctx, scope, conversation_id, limit=limit, cursor=cursor)
    return PageOut(
        items=[AuditEntryOut.model_validate(entry) for entry in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/conversations/{conversation_id}/messages", tags=["messages"])
async def list_messages(
    ctx: Ctx,
    scope: Staff,
    conversation_id: uuid.UUID,
    limit: PageSize = 50,
    cursor: PageCursor = None,
) -> PageOut[MessageView]:
    page = await messages.list_messages(ctx, scope, conversation_id, limit=limit, cursor=cursor)
    return PageOut(items=page.items, next_cursor=page.next_cursor)


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=201,
    tags=["messages"],
    responses=TEXTS_CLIENTS,
)
async def post_message(
    ctx: Ctx,
    scope: Staff,
    conversation_id: uuid.UUID,
    new: NewMessage,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> PostedMessageView:
    posted = await messages.post_staff_message(
        ctx,
        scope,
        conversation_id,
        body=new.body,
        send_as_sms=new.send_as_sms,
        idempotency_key=idempotency_key,
    )
    return _answer(posted, response)


@router.get("/messages/{message_id}", tags=["messages"])
async def get_message(ctx: Ctx, scope: Staff, message_id: uuid.UUID) -> MessageView:
    return await messages.get_message(ctx, scope, message_id)


@router.post(
    "/messages/{message_id}/resend-sms", status_code=201, tags=["messages"], responses=TEXTS_CLIENTS
)
async def resend_sms(
    ctx: Ctx,
    scope: Staff,
    message_id: uuid.UUID,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> PostedMessageView:
    posted = await messages.resend_as_sms(ctx, scope, message_id, idempotency_key=idempotency_key)
    return _answer(posted, response)


@router.get("/inbox", tags=["inbox"])
async def list_inbox(
    ctx: Ctx, scope: Staff, limit: PageSize = 50, cursor: PageCursor = None
) -> PageOut[InboxItemView]:
    page = await inbox.list_inbox(ctx, scope, limit=limit, cursor=cursor)
    return PageOut(items=page.items, next_cursor=page.next_cursor)


@router.post(
    "/inbox/{item_id}/assign", status_code=201, tags=["inbox"], responses=documented_errors(409)
)
async def file_from_inbox(
    ctx: Ctx, scope: Staff, item_id: uuid.UUID, target: FileFromInbox
) -> MessageView:
    return await inbox.file_from_inbox(
        ctx, scope, item_id, conversation_id=target.conversation_id, contact_id=target.contact_id
    )
