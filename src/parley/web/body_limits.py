"""How large a request body each part of the service accepts (413 beyond it).

Sized to what legitimate callers send, with room to spare: Twilio's webhooks are a
few kilobytes, a reply from the page is at most a 10,000-character message, and a
staff API call carries one message. Anything larger is refused before it is read
into memory, whether or not it announces its length.
"""

from __future__ import annotations

KIB = 1024

WEBHOOK_BODY_LIMIT = 64 * KIB
REPLY_PAGE_BODY_LIMIT = 64 * KIB  # 10,000 characters of up to 4 bytes, form-encoded
STAFF_BODY_LIMIT = 256 * KIB
DEFAULT_BODY_LIMIT = 256 * KIB
