"""A stand-in for the Telegram Bot API HTTP server, for tests and benchmarks.

It speaks the real API's wire format, so python-telegram-bot talks to it unchanged::

    async with FakeBotApi() as api:
        async with telegram.Bot(api.token, base_url=api.base_url) as bot:
            api.user_sends(42, "/start")
            updates = await bot.get_updates()
            await bot.send_message(42, "Hallo")
        assert api.sent(42)[0].text == "Hallo"

What it imitates, and where it deliberately stops:

* Requests: ``/bot<token>/<method>``, GET or POST, parameters in the query string, a JSON body,
  a form-encoded body or ``multipart/form-data``. Method names are case-insensitive, as in the
  real API. Non-string values sent as form fields arrive JSON-encoded (``"42"``, ``"true"``,
  ``'{"inline_keyboard": ...}'``) and are decoded per parameter.
* Errors: the HTTP status and ``{"ok": false, "error_code": ..., "description": ...}`` bodies of
  the real API, with its descriptions for the common cases (chat not found, blocked, message
  not modified, can't parse entities, flood control...).
* Formatting: ``parse_mode`` HTML, MarkdownV2 and Markdown are parsed into plain text plus
  entities, and malformed markup is refused with ``400 Bad Request: can't parse entities: ...``
  like Telegram does. Text is trimmed of surrounding whitespace as Telegram trims it.
* Keyboards: inline keyboards are validated (callback_data 1-64 bytes) and echoed back in the
  returned Message; reply keyboards are accepted and stored but, as in the real API, never
  appear in the returned Message. Editing a message's text without ``reply_markup`` removes its
  inline keyboard, as the real API does.
* Group privacy mode (on by default, as BotFather sets it): in groups, the bot only receives
  commands and replies to its own messages; :meth:`FakeBotApi.user_sends` returns ``None`` for
  messages the bot would not see.
* Flood control as Telegram documents it (https://core.telegram.org/bots/faq): at most 30
  messages per second overall, 1 per second per chat and 20 per minute per group, measured as
  sliding windows over the injectable ``clock``. Sent messages count towards all three. Edits
  count towards the per-chat and per-group limits only, in windows of their own, so a bot can
  send a message and edit another one in the same second (Telegram tolerates that), but a loop
  editing one message faster than once a second is refused as Telegram refuses it. Set
  ``FloodLimits(count_edits=False)`` to exempt edits. Refused requests are not counted.
* Not imitated: files and media, inline mode, payments, forum topics, channels beyond a
  ``chat_type``, the 48-hour edit/delete windows, callback-query expiry.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import inspect
import itertools
import json
import math
import re
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout, web

JSON = dict[str, Any]
Clock = Callable[[], float]
FailureKind = Literal["http", "timeout", "lost_reply"]

DEFAULT_TOKEN = "123456789:AAF4keT0kenF0rTestsOnly-kortelijn_x"
_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
#: where _read_params keeps an uploaded file's name and type, beside its bytes
_FILENAME = ":filename"
_CONTENT_TYPE = ":content_type"
#: the Bot API's limits on files: a bot uploads up to 50 MB, downloads up to 20 MB; a
#: caption has at most 1,024 characters
UPLOAD_LIMIT = 50 * 1024 * 1024
DOWNLOAD_LIMIT = 20 * 1024 * 1024
CAPTION_LIMIT = 1024
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}

#: update types delivered when ``allowed_updates`` is unset or ``[]``
_DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post", "inline_query",
        "chosen_inline_result", "callback_query", "shipping_query", "pre_checkout_query",
        "poll", "poll_answer", "my_chat_member", "chat_join_request", "chat_boost",
        "removed_chat_boost", "business_connection", "business_message",
        "edited_business_message", "deleted_business_messages", "purchased_paid_media",
    }
)  # fmt: skip
_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
_BUTTON_ACTIONS = frozenset(
    {
        "callback_data", "url", "login_url", "switch_inline_query",
        "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
        "callback_game", "pay", "web_app", "copy_text",
    }
)  # fmt: skip
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
_WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w@/])")
_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


# --------------------------------------------------------------------------------------------
# errors and results


class ApiError(Exception):
    """A refusal the handler turns into ``{"ok": false, ...}`` with this HTTP status."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def _entities_error(detail: str) -> ApiError:
    return _bad_request(f"can't parse entities: {detail}")


def _too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def _http_error(status: int, description: str | None, retry_after: int | None) -> ApiError:
    if status == 429:
        return _too_many_requests(retry_after or 1)
    if description is None:
        try:
            description = HTTPStatus(status).phrase
        except ValueError:
            description = f"Error {status}"
    return ApiError(status, description)


@dataclass(frozen=True, slots=True)
class _Described:
    """A result with the extra ``description`` some methods (setWebhook...) send along."""

    result: Any
    description: str


# --------------------------------------------------------------------------------------------
# stored state


@dataclass(slots=True)
class StoredUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_json(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


@dataclass(slots=True)
class StoredChat:
    id: int
    type: str  # private, group, supergroup, channel
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    #: private chat: the user blocked the bot; group: the bot was removed from it
    blocked: bool = False
    last_message_id: int = 0
    #: group: its members (user id → status: creator, administrator, member), the bot too
    members: dict[int, str] = field(default_factory=dict)

    @property
    def is_group(self) -> bool:
        return self.type != "private"

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id

    def to_json(self) -> JSON:
        data: JSON = {"id": self.id}
        for key in ("title", "first_name", "last_name", "username"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        data["type"] = self.type
        return data

    def full_info(self) -> JSON:
        """The ``ChatFullInfo`` getChat answers with."""
        return {
            **self.to_json(),
            "accent_color_id": abs(self.id) % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }


@dataclass(frozen=True, slots=True)
class MessageVersion:
    """What a message looked like before one edit."""

    text: str
    entities: tuple[JSON, ...]
    reply_markup: JSON | None
    edit_date: int | None


@dataclass(slots=True)
class StoredMessage:
    message_id: int
    chat: StoredChat
    sender: StoredUser
    date: int
    text: str
    entities: list[JSON] = field(default_factory=list)
    #: the inline keyboard as the API echoes it, or None
    reply_markup: JSON | None = None
    #: a reply keyboard / remove_keyboard / force_reply the bot sent (never echoed back)
    reply_keyboard: JSON | None = None
    parse_mode: str | None = None
    reply_to: StoredMessage | None = None
    edit_date: int | None = None
    #: earlier versions, oldest first; the fields above hold the current one
    history: list[MessageVersion] = field(default_factory=list)
    deleted: bool = False
    #: a file the message carries, as the API shows it: ``{"document": {...}}`` or
    #: ``{"photo": [...]}``; then ``text`` is its caption
    media: JSON | None = None

    @property
    def chat_id(self) -> int:
        return self.chat.id

    @property
    def from_bot(self) -> bool:
        return self.sender.is_bot

    @property
    def buttons(self) -> list[list[JSON]]:
        return [list(row) for row in (self.reply_markup or {}).get("inline_keyboard", [])]

    @property
    def callback_data(self) -> list[str]:
        """Every button's callback_data, row by row."""
        return [b["callback_data"] for row in self.buttons for b in row if "callback_data" in b]

    def to_json(self, *, with_reply: bool = True) -> JSON:
        data: JSON = {
            "message_id": self.message_id,
            "from": self.sender.to_json(),
            "chat": self.chat.to_json(),
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if with_reply and self.reply_to is not None:
            data["reply_to_message"] = self.reply_to.to_json(with_reply=False)
        if self.media is not None:
            data.update(json.loads(json.dumps(self.media)))
            if self.text:
                data["caption"] = self.text
                if self.entities:
                    data["caption_entities"] = [dict(e) for e in self.entities]
        else:
            data["text"] = self.text
            if self.entities:
                data["entities"] = [dict(e) for e in self.entities]
        if self.reply_markup is not None:
            data["reply_markup"] = json.loads(json.dumps(self.reply_markup))
        return data


@dataclass(slots=True)
class StoredCallbackQuery:
    id: str
    user: StoredUser
    message: StoredMessage
    data: str
    answered: bool = False
    answer: JSON | None = None


@dataclass(slots=True)
class WebhookState:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    has_custom_certificate: bool = False
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """One request the fake served."""

    method: str  # as spelled in the URL
    params: JSON
    status: int
    http_method: str
    content_type: str
    at: float  # the injected clock
    response: JSON


@dataclass(slots=True)
class Stats:
    requests: int = 0
    messages_sent: int = 0
    edits: int = 0
    http_429: int = 0
    by_status: Counter[int] = field(default_factory=Counter)


@dataclass(slots=True)
class _Failure:
    count: int
    status: int
    kind: FailureKind
    description: str | None
    retry_after: int | None


# --------------------------------------------------------------------------------------------
# flood control


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """Telegram's documented limits: overall, per chat, per group."""

    overall: int = 30
    overall_window: float = 1.0
    per_chat: int = 1
    per_chat_window: float = 1.0
    per_group: int = 20
    per_group_window: float = 60.0
    #: edits count towards per-chat and per-group limits, in windows of their own
    count_edits: bool = True


class _SlidingWindow:
    """At most ``limit`` events per key in any ``window`` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[object, deque[float]] = {}

    def wait(self, key: object, now: float) -> float:
        """Seconds until one more event for ``key`` is allowed; 0 when it is allowed now."""
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) < self.limit:
            return 0.0
        return events[len(events) - self.limit] + self.window - now

    def record(self, key: object, now: float) -> None:
        self._events.setdefault(key, deque()).append(now)

    def clear(self) -> None:
        self._events.clear()


class FloodControl:
    def __init__(self, limits: FloodLimits) -> None:
        self.limits = limits
        self._overall = _SlidingWindow(limits.overall, limits.overall_window)
        self._chat = _SlidingWindow(limits.per_chat, limits.per_chat_window)
        self._group = _SlidingWindow(limits.per_group, limits.per_group_window)

    def admit(self, chat: StoredChat, now: float, *, edit: bool = False) -> None:
        """Count one message to ``chat`` or raise the 429 Telegram would answer."""
        if edit and not self.limits.count_edits:
            return
        checks: list[tuple[_SlidingWindow, object]] = [(self._chat, (chat.id, edit))]
        if chat.is_group:
            checks.append((self._group, (chat.id, edit)))
        if not edit:
            checks.append((self._overall, None))
        wait = max(window.wait(key, now) for window, key in checks)
        if wait > 0:
            raise _too_many_requests(max(1, math.ceil(round(wait, 6))))
        for window, key in checks:
            window.record(key, now)

    def reset(self) -> None:
        for window in (self._overall, self._chat, self._group):
            window.clear()


# --------------------------------------------------------------------------------------------
# request parameters


class _Params:
    """Request parameters, typed on read: form fields hold JSON-encoded non-strings."""

    def __init__(self, raw: JSON) -> None:
        self.raw = raw

    def has(self, name: str) -> bool:
        return self.raw.get(name) not in (None, "")

    def get_str(self, name: str, default: str | None = None) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def get_int(self, name: str, *, required: bool = False) -> int | None:
        value = self.raw.get(name)
        if value in (None, ""):
            if required:
                raise _bad_request(f"{name} is empty")
            return None
        if isinstance(value, bool):
            raise _bad_request(f"invalid {name} specified")
        if isinstance(value, int):
            return value
        try:
            return int(str(value))
        except ValueError:
            raise _bad_request(f"invalid {name} specified") from None

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.raw.get(name)
        if value in (None, ""):
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1")

    def get_json(self, name: str) -> Any:
        value = self.raw.get(name)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise _bad_request(f"can't parse {name} JSON object") from None


async def _read_params(request: web.Request) -> JSON:
    params: JSON = dict(request.query)
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise _bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise _bad_request("can't parse JSON object")
        params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = value.file.read()
                params[f"{key}{_FILENAME}"] = value.filename
                params[f"{key}{_CONTENT_TYPE}"] = value.content_type
            else:
                params[key] = value
    return params


# --------------------------------------------------------------------------------------------
# text formatting: parse_mode into plain text + entities


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode())


class _TextBuilder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0  # UTF-16 code units, as entity offsets count
        self.entities: list[JSON] = []

    def emit(self, text: str) -> None:
        self.parts.append(text)
        self.length += _utf16_len(text)

    def open(self, kind: str, **extra: Any) -> JSON:
        return {"offset": self.length, "length": 0, "type": kind, **extra}

    def close(self, entity: JSON) -> None:
        entity["length"] = self.length - entity["offset"]
        if entity["length"] > 0:
            self.entities.append(entity)

    def result(self) -> tuple[str, list[JSON]]:
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), entities


_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler", "code": "code", "pre": "pre", "a": "text_link",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}  # fmt: skip
_HTML_ATTR_RE = re.compile(r"""\s*([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_HTML_ENTITY_RE = re.compile(r"&(#[0-9]+|#x[0-9A-Fa-f]+|lt|gt|amp|quot);")


def _parse_html(source: str) -> tuple[str, list[JSON]]:
    out = _TextBuilder()
    stack: list[tuple[str, JSON | None]] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "<":
            end = source.find(">", i)
            if end < 0:
                raise _entities_error(
                    f"Unclosed start tag at byte offset {_byte_offset(source, i)}"
                )
            _html_tag(source, i, source[i + 1 : end], out, stack)
            i = end + 1
        elif char == "&" and (match := _HTML_ENTITY_RE.match(source, i)):
            out.emit(html.unescape(match.group(0)))
            i = match.end()
        else:
            out.emit(char)
            i += 1
    if stack:
        raise _entities_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def _html_tag(
    source: str, at: int, raw: str, out: _TextBuilder, stack: list[tuple[str, JSON | None]]
) -> None:
    offset = _byte_offset(source, at)
    if raw.startswith("/"):
        name = raw[1:].strip().lower()
        if not stack:
            raise _entities_error(f"Unexpected end tag at byte offset {offset}")
        if stack[-1][0] != name:
            raise _entities_error(
                f'Unmatched end tag at byte offset {offset}, expected "</{stack[-1][0]}>", '
                f'found "</{name}>"'
            )
        _, entity = stack.pop()
        if entity is not None:
            out.close(entity)
        return
    match = re.match(r"([A-Za-z][\w-]*)(.*)$", raw, re.DOTALL)
    name, attr_text = (match[1].lower(), match[2]) if match else (raw, "")
    attrs = {m[1].lower(): m[2] or m[3] or m[4] or "" for m in _HTML_ATTR_RE.finditer(attr_text)}
    kind = _HTML_TAGS.get(name)
    if kind is None or (name == "span" and attrs.get("class") != "tg-spoiler"):
        raise _entities_error(f'Unsupported start tag "{name}" at byte offset {offset}')
    if name == "code" and stack and stack[-1][0] == "pre" and stack[-1][1] is not None:
        language = attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1][1]["language"] = language.removeprefix("language-")
            stack.append((name, None))
            return
    extra: JSON = {}
    if name == "a":
        extra["url"] = attrs.get("href", "")
    elif name == "tg-emoji":
        extra["custom_emoji_id"] = attrs.get("emoji-id", "")
    stack.append((name, out.open(kind, **extra)))


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_TOGGLES = {
    "*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler",
}  # fmt: skip


def _parse_markdown_v2(source: str) -> tuple[str, list[JSON]]:
    out = _TextBuilder()
    open_toggles: dict[str, tuple[JSON, int]] = {}
    link: tuple[JSON, int] | None = None
    quote: JSON | None = None
    i = 0
    while i < len(source):
        char = source[i]
        at_line_start = i == 0 or source[i - 1] == "\n"
        if char == "\n" and quote is not None:
            out.close(quote)
            quote = None
        if char == "\\" and i + 1 < len(source) and 1 <= ord(source[i + 1]) <= 126:
            out.emit(source[i + 1])
            i += 2
        elif source.startswith("```", i):
            i = _mdv2_pre(source, i, out)
        elif char == "`":
            i = _mdv2_code(source, i, out)
        elif (marker := source[i : i + 2]) in ("__", "||") or (marker := char) in _MDV2_TOGGLES:
            if marker in open_toggles:
                out.close(open_toggles.pop(marker)[0])
            else:
                open_toggles[marker] = (out.open(_MDV2_TOGGLES[marker]), i)
            i += len(marker)
        elif char == "[" and link is None:
            link = (out.open("text_link"), i)
            i += 1
        elif char == "]" and link is not None and source.startswith("(", i + 1):
            end = _mdv2_url_end(source, i + 2)
            url = re.sub(r"\\(.)", r"\1", source[i + 2 : end])
            link[0]["url"] = url
            out.close(link[0])
            link = None
            i = end + 1
        elif char == ">" and at_line_start and quote is None:
            quote = out.open("blockquote")
            i += 1
        elif char in _MDV2_RESERVED:
            raise _entities_error(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            out.emit(char)
            i += 1
    if quote is not None:
        out.close(quote)
    unclosed = [*open_toggles.values(), *([link] if link else [])]
    if unclosed:
        entity, start = min(unclosed, key=lambda item: item[1])
        name = entity["type"].replace("_", " ").title().replace(" ", "")
        raise _entities_error(
            f"Can't find end of {name} entity at byte offset {_byte_offset(source, start)}"
        )
    return out.result()


def _mdv2_find(source: str, needle: str, start: int) -> int:
    """Index of the next unescaped ``needle`` from ``start``, or -1."""
    i = start
    while i < len(source):
        if source[i] == "\\":
            i += 2
            continue
        if source.startswith(needle, i):
            return i
        i += 1
    return -1


def _mdv2_pre(source: str, i: int, out: _TextBuilder) -> int:
    end = _mdv2_find(source, "```", i + 3)
    if end < 0:
        raise _entities_error(
            f"Can't find end of Pre entity at byte offset {_byte_offset(source, i)}"
        )
    body = source[i + 3 : end]
    extra: JSON = {}
    first, newline, rest = body.partition("\n")
    if newline and first and " " not in first:
        extra["language"], body = first, rest
    entity = out.open("pre", **extra)
    out.emit(re.sub(r"\\([`\\])", r"\1", body))
    out.close(entity)
    return end + 3


def _mdv2_code(source: str, i: int, out: _TextBuilder) -> int:
    end = _mdv2_find(source, "`", i + 1)
    if end < 0:
        raise _entities_error(
            f"Can't find end of Code entity at byte offset {_byte_offset(source, i)}"
        )
    entity = out.open("code")
    out.emit(re.sub(r"\\([`\\])", r"\1", source[i + 1 : end]))
    out.close(entity)
    return end + 1


def _mdv2_url_end(source: str, start: int) -> int:
    end = _mdv2_find(source, ")", start)
    if end < 0:
        raise _entities_error(
            f"Can't find end of a URL at byte offset {_byte_offset(source, start)}"
        )
    return end


_MD_KINDS = {"*": "bold", "_": "italic", "`": "code"}


def _parse_markdown(source: str) -> tuple[str, list[JSON]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    out = _TextBuilder()
    i = 0
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source) and source[i + 1] in "_*`[":
            out.emit(source[i + 1])
            i += 2
        elif char == "[":
            i = _md_link(source, i, out)
        elif source.startswith("```", i):
            i = _md_span(source, i, "```", "pre", out)
        elif char in _MD_KINDS:
            i = _md_span(source, i, char, _MD_KINDS[char], out)
        else:
            out.emit(char)
            i += 1
    return out.result()


def _md_unclosed(source: str, i: int) -> ApiError:
    offset = _byte_offset(source, i)
    return _entities_error(f"Can't find end of the entity starting at byte offset {offset}")


def _md_span(source: str, i: int, marker: str, kind: str, out: _TextBuilder) -> int:
    end = source.find(marker, i + len(marker))
    if end < 0:
        raise _md_unclosed(source, i)
    entity = out.open(kind)
    out.emit(source[i + len(marker) : end])
    out.close(entity)
    return end + len(marker)


def _md_link(source: str, i: int, out: _TextBuilder) -> int:
    middle = source.find("](", i + 1)
    end = source.find(")", middle + 2) if middle >= 0 else -1
    if end < 0:
        raise _md_unclosed(source, i)
    entity = out.open("text_link", url=source[middle + 2 : end])
    out.emit(source[i + 1 : middle])
    out.close(entity)
    return end + 1


_PARSERS: dict[str, Callable[[str], tuple[str, list[JSON]]]] = {
    "html": _parse_html,
    "markdownv2": _parse_markdown_v2,
    "markdown": _parse_markdown,
}


def _formatted_text(p: _Params, *, limit: int = 4096) -> tuple[str, list[JSON], str | None]:
    """The text, its entities and the parse mode, as Telegram stores them."""
    source = p.get_str("text") or ""
    parse_mode = p.get_str("parse_mode")
    if parse_mode:
        parser = _PARSERS.get(parse_mode.lower())
        if parser is None:
            raise _bad_request(f"unsupported parse_mode {parse_mode!r}")
        text, entities = parser(source)
    else:
        text, entities = source, list(p.get_json("entities") or [])
    text, entities = _trim(text, entities)
    if not text:
        raise _bad_request("message text is empty")
    if len(text) > limit:
        raise _bad_request("message is too long")
    return text, entities, parse_mode


def _trim(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Telegram strips surrounding whitespace and moves the entities along."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    shift = _utf16_len(text[: len(text) - len(text.lstrip())])
    end = _utf16_len(stripped)
    moved = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        stop = min(entity["offset"] + entity["length"] - shift, end)
        if stop > start:
            moved.append({**entity, "offset": start, "length": stop - start})
    return stripped, moved


def _command_entities(text: str) -> list[JSON]:
    return [
        {
            "offset": _utf16_len(text[: m.start()]),
            "length": _utf16_len(m.group(0)),
            "type": "bot_command",
        }
        for m in _COMMAND_RE.finditer(text)
    ]


# --------------------------------------------------------------------------------------------
# keyboards


def _split_markup(markup: Any) -> tuple[JSON | None, JSON | None]:
    """(inline keyboard as echoed back, other reply markup) from a ``reply_markup`` value."""
    if markup is None:
        return None, None
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        if not any(k in markup for k in ("keyboard", "remove_keyboard", "force_reply")):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        return None, markup
    return _inline_keyboard(markup["inline_keyboard"]), None


def _inline_keyboard(rows: Any) -> JSON | None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request(
            "can't parse inline keyboard button: InlineKeyboardMarkup must be an Array of Arrays"
        )
    kept = [[_inline_button(button) for button in row] for row in rows if row]
    if sum(len(row) for row in kept) > 100:
        raise _bad_request("reply markup is too long")
    return {"inline_keyboard": kept} if kept else None


def _inline_button(button: Any) -> JSON:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise _bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    actions = [key for key in button if key in _BUTTON_ACTIONS]
    if len(actions) != 1:
        raise _bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if "callback_data" in button and (
        not isinstance(data, str) or not 1 <= len(data.encode()) <= 64
    ):
        raise _bad_request("BUTTON_DATA_INVALID")
    return {"text": button["text"], actions[0]: button[actions[0]]}


# --------------------------------------------------------------------------------------------
# the server


class FakeBotApi:
    """The Telegram Bot API, served on 127.0.0.1 for one bot token."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        limits: FloodLimits | None = None,
        enforce_limits: bool = True,
        bot_username: str = "KorteLijnTestBot",
        bot_first_name: str = "KorteLijn",
        privacy_mode: bool = True,
        hang_seconds: float = 30.0,
    ) -> None:
        if not _TOKEN_SHAPE.match(token):
            raise ValueError(f"not a Bot API token: {token!r}")
        self.token = token
        self.clock = clock
        self.wall_clock = wall_clock
        self.limits = limits or FloodLimits()
        self.enforce_limits = enforce_limits
        self.privacy_mode = privacy_mode
        self.hang_seconds = hang_seconds
        self.bot_user = StoredUser(
            id=int(token.split(":", 1)[0]),
            first_name=bot_first_name,
            username=bot_username,
            is_bot=True,
        )
        self.stats = Stats()
        self.flood = FloodControl(self.limits)
        self.webhook: WebhookState | None = None
        self._chats: dict[int, StoredChat] = {}
        self._users: dict[int, StoredUser] = {}
        self._messages: dict[tuple[int, int], StoredMessage] = {}
        self._queries: dict[str, StoredCallbackQuery] = {}
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._updates: list[JSON] = []
        self._allowed_updates: frozenset[str] = _DEFAULT_UPDATE_TYPES
        self._update_ids = itertools.count(10_001)
        self._query_ids = itertools.count(4_417_000_000_000_000_001)
        self._calls: list[Call] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._poll_generation = 0
        self._waiting_polls = 0
        self._changed = asyncio.Event()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._methods: dict[str, Callable[[_Params], Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "getFile": self._get_file,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getChat": self._get_chat,
            "getChatMemberCount": self._get_chat_member_count,
            "getChatMember": self._get_chat_member,
            "getChatMembersCount": self._get_chat_member_count,  # the deprecated name
            "sendChatAction": self._send_chat_action,
            "logOut": self._true,
            "close": self._true,
        }
        self._by_lower_name = {name.lower(): name for name in self._methods}
        #: file_id → (bytes, file_unique_id, file_path): what users and the bot sent
        self._files: dict[str, tuple[bytes, str, str]] = {}
        self._file_numbers = itertools.count(1)

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/bot{token}/{method}", self._handle)
        app.router.add_route("POST", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self._closing.clear()

    async def stop(self) -> None:
        self._closing.set()
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeBotApi is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """What to pass as python-telegram-bot's ``base_url`` (it appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ---- test-side controls ------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "nl",
    ) -> StoredUser:
        """Make a person known (and their private chat with the bot)."""
        user = self._users.get(user_id)
        if user is None:
            user = self._users[user_id] = StoredUser(user_id, first_name)
        user.first_name, user.last_name = first_name, last_name
        user.username, user.language_code = username, language_code
        chat = self._chats.setdefault(user_id, StoredChat(user_id, "private"))
        chat.first_name, chat.last_name, chat.username = first_name, last_name, username
        return user

    def add_group(
        self,
        chat_id: int,
        *,
        title: str | None = None,
        chat_type: str = "supergroup",
        username: str | None = None,
    ) -> StoredChat:
        """Make a group the bot is a member of known."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = self._chats.setdefault(chat_id, StoredChat(chat_id, chat_type))
        chat.type, chat.title, chat.username = chat_type, title or f"Group {chat_id}", username
        chat.members.setdefault(self.bot_user.id, "member")
        return chat

    def member_joins(self, chat_id: int, user_id: int, *, first_name: str = "Test",
                     added_by: int | None = None) -> JSON | None:
        """A person joins a group (or is added). Telegram tells the bot through a
        ``chat_member`` update only where the bot is an administrator and asked for them in
        ``allowed_updates``; returns that update, or ``None`` when the bot is not told."""
        chat = self._group(chat_id)
        user = self._users.get(user_id) or self.add_user(user_id, first_name=first_name)
        old = chat.members.get(user_id, "left")
        chat.members[user_id] = "member"
        return self._member_changed(chat, user, old, "member", actor=added_by)

    def member_leaves(self, chat_id: int, user_id: int, *, kicked_by: int | None = None
                      ) -> JSON | None:
        """A person leaves a group (or is removed); told as :meth:`member_joins`."""
        chat = self._group(chat_id)
        user = self._users.get(user_id) or self.add_user(user_id)
        old = chat.members.pop(user_id, "left")
        new = "kicked" if kicked_by is not None else "left"
        return self._member_changed(chat, user, old, new, actor=kicked_by)

    def promote_bot(self, chat_id: int, *, by: int) -> JSON:
        """An administrator makes the bot an administrator: a ``my_chat_member`` update (from
        now on the bot may receive ``chat_member`` updates of that group)."""
        chat = self._group(chat_id)
        old = chat.members.get(self.bot_user.id, "member")
        chat.members[self.bot_user.id] = "administrator"
        actor = self._users.get(by) or self.add_user(by)
        return self.push_update("my_chat_member", self._member_update(
            chat, actor, self.bot_user, old, "administrator"))

    def member_count(self, chat_id: int) -> int:
        """What getChatMemberCount answers: every member, the bot included."""
        return len(self._group(chat_id).members)

    def _group(self, chat_id: int) -> StoredChat:
        chat = self._chats.get(chat_id)
        if chat is None or not chat.is_group:
            raise ValueError(f"no group {chat_id}")
        return chat

    def _member_changed(self, chat: StoredChat, user: StoredUser, old: str, new: str, *,
                        actor: int | None) -> JSON | None:
        if chat.members.get(self.bot_user.id) not in ("administrator", "creator"):
            return None  # a bot that is no administrator is not told of others' changes
        if "chat_member" not in self._allowed_updates:
            return None  # not among the updates the bot asked for (nor a default)
        by = self._users.get(actor) if actor is not None else user
        return self.push_update("chat_member", self._member_update(chat, by or user, user, old,
                                                                   new))

    def _member_update(self, chat: StoredChat, actor: StoredUser, user: StoredUser, old: str,
                       new: str) -> JSON:
        return {"chat": chat.to_json(), "from": actor.to_json(), "date": self._now(),
                "old_chat_member": _chat_member(user, old),
                "new_chat_member": _chat_member(user, new)}

    def user_sends(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "nl",
        chat_id: int | None = None,
        chat_type: str = "private",
        title: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSON | None:
        """Queue the update for a text message a person sends; return it.

        Returns ``None`` when group privacy mode keeps the message from the bot.
        """
        user = self.add_user(
            user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        if chat_type == "private":
            if chat_id not in (None, user_id):
                raise ValueError("a private chat's id is the user's id")
            chat = self._chats[user_id]
        else:
            if chat_id is None:
                raise ValueError("pass chat_id (negative) for a group message")
            existing = self._chats.get(chat_id)
            chat = self.add_group(
                chat_id, title=title or (existing.title if existing else None), chat_type=chat_type
            )
            chat.members.setdefault(user_id, "member")  # who writes in a group is in it
        reply_to = self._messages.get((chat.id, reply_to_message_id or 0))
        message = StoredMessage(
            message_id=chat.next_message_id(),
            chat=chat,
            sender=user,
            date=self._now(),
            text=text,
            entities=_command_entities(text),
            reply_to=reply_to,
        )
        self._messages[chat.id, message.message_id] = message
        if chat.is_group and self.privacy_mode and not self._bot_sees(message):
            return None
        return self.push_update("message", message.to_json())

    def user_presses(
        self,
        user_id: int,
        message_id: int,
        chat_id: int | None = None,
        data: str | None = None,
        *,
        check_button: bool = True,
    ) -> JSON:
        """Queue the callback_query update for a person pressing a button; return it."""
        chat_id = user_id if chat_id is None else chat_id
        message = self._messages.get((chat_id, message_id))
        if message is None or message.deleted or not message.from_bot:
            raise ValueError(f"the bot has no message {message_id} in chat {chat_id}")
        if data is None:
            raise ValueError("pass the button's callback data")
        if check_button and data not in message.callback_data:
            raise ValueError(f"message {message_id} has no button with data {data!r}")
        user = self._users.get(user_id) or self.add_user(user_id)
        query = StoredCallbackQuery(str(next(self._query_ids)), user, message, data)
        self._queries[query.id] = query
        return self.push_update(
            "callback_query",
            {
                "id": query.id,
                "from": user.to_json(),
                "message": message.to_json(),
                "chat_instance": str(-abs(chat_id) * 7919 - 13),
                "data": data,
            },
        )

    def store_file(self, data: bytes, *, folder: str = "documents", name: str = "file"
                   ) -> tuple[str, str, str]:
        """Keep a file as Telegram does: ``(file_id, file_unique_id, file_path)``."""
        number = next(self._file_numbers)
        file_id = f"BQACAgQAAxkBAAI{number:06d}{self.bot_user.id % 9973:04d}"
        unique = f"AgAD{number:06d}"
        suffix = name.rsplit(".", 1)[-1] if "." in name else "bin"
        path = f"{folder}/file_{number}.{suffix}"
        self._files[file_id] = (data, unique, path)
        return file_id, unique, path

    def file_bytes(self, file_id: str) -> bytes:
        return self._files[file_id][0]

    def user_sends_file(self, user_id: int, data: bytes, *, kind: str = "document",
                        file_name: str = "file.pdf", mime_type: str | None = None,
                        caption: str = "", first_name: str = "Test",
                        language_code: str | None = "nl") -> JSON:
        """Queue the update for a document (``kind="document"``) or photo (``"photo"``) a
        person sends in their private chat, with a caption (a command, say); return it."""
        user = self.add_user(user_id, first_name=first_name, language_code=language_code)
        chat = self._chats[user_id]
        file_id, unique, _ = self.store_file(
            data, folder="photos" if kind == "photo" else "documents", name=file_name)
        media: JSON
        if kind == "photo":  # Telegram offers sizes; the largest is the photo as sent
            media = {"photo": [{"file_id": file_id, "file_unique_id": unique,
                                "width": 1280, "height": 960, "file_size": len(data)}]}
        else:
            media = {kind: {"file_id": file_id, "file_unique_id": unique,
                            "file_name": file_name, "file_size": len(data),
                            **({"mime_type": mime_type} if mime_type else {})}}
        message = StoredMessage(message_id=chat.next_message_id(), chat=chat, sender=user,
                                date=self._now(), text=caption,
                                entities=_command_entities(caption), media=media)
        self._messages[chat.id, message.message_id] = message
        return self.push_update("message", message.to_json())

    def documents_to(self, chat_id: int) -> list[StoredMessage]:
        """The documents the bot sent to a chat, oldest first."""
        return [m for (c, _), m in sorted(self._messages.items())
                if c == chat_id and m.from_bot and m.media and "document" in m.media]

    def push_update(self, kind: str, payload: JSON) -> JSON:
        """Queue any update: ``push_update("my_chat_member", {...})``."""
        update = {"update_id": next(self._update_ids), kind: payload}
        self._updates.append(update)
        self._notify()
        return update

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates queued and not yet confirmed by an offset."""
        return list(self._updates)

    @property
    def waiting_polls(self) -> int:
        """getUpdates requests now waiting (long polling) for an update."""
        return self._waiting_polls

    def block(self, chat_id: int) -> None:
        """The user blocks the bot (private chat) or removes it (group)."""
        if chat_id not in self._chats:
            if chat_id > 0:
                self.add_user(chat_id)
            else:
                self.add_group(chat_id)
        self._chats[chat_id].blocked = True

    def unblock(self, chat_id: int) -> None:
        self._chats[chat_id].blocked = False

    def fail_next(
        self,
        method: str,
        count: int = 1,
        *,
        status: int = 500,
        kind: FailureKind = "http",
        description: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail.

        ``kind="http"`` answers ``status`` with the API's error body; ``"timeout"`` hangs before
        doing anything (the client times out, nothing happened); ``"lost_reply"`` does the work,
        then hangs (the client times out although the message was sent).
        """
        name = self._canonical(method)
        if name is None:
            raise ValueError(f"FakeBotApi does not implement {method}")
        self._failures.setdefault(name, deque()).append(
            _Failure(count, status, kind, description, retry_after)
        )

    def sent(self, chat_id: int | None = None) -> list[StoredMessage]:
        """Messages the bot sent, oldest first, edits applied (``.history`` has the earlier)."""
        return [
            m
            for m in self._messages.values()
            if m.from_bot and (chat_id is None or m.chat_id == chat_id)
        ]

    def message(self, chat_id: int, message_id: int) -> StoredMessage:
        return self._messages[chat_id, message_id]

    def calls(self, method: str | None = None) -> list[Call]:
        """Requests served, oldest first; ``method`` matches case-insensitively."""
        if method is None:
            return list(self._calls)
        return [c for c in self._calls if c.method.lower() == method.lower()]

    def callback_answer(self, query_id: str) -> JSON | None:
        """The bot's answerCallbackQuery parameters for that query, if it answered."""
        return self._queries[query_id].answer

    def commands(self, *, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        return list(self._commands.get((_scope_key(scope), language_code), []))

    async def wait_for(self, predicate: Callable[[], object], *, within: float = 5.0) -> None:
        """Wait until ``predicate()`` holds, re-checking after every request the fake serves."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {within}s")
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def post_webhook_update(self, update: JSON | None = None) -> int:
        """POST an update to the webhook as Telegram would; return the HTTP status.

        Without ``update``, delivers the oldest pending update and drops it when the bot
        answers 2xx. Only loopback webhooks are ever contacted.
        """
        hook = self.webhook
        if hook is None:
            raise RuntimeError("no webhook is set")
        if urlsplit(hook.url).hostname not in _LOOPBACK_HOSTS:
            raise RuntimeError(f"refusing to contact non-local webhook {hook.url}")
        pending = update is None
        if update is None:
            if not self._updates:
                raise LookupError("no pending update")
            update = self._updates[0]
        headers = {}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        try:
            async with (
                ClientSession(timeout=ClientTimeout(total=10)) as session,
                session.post(hook.url, json=update, headers=headers) as response,
            ):
                status = response.status
                reason = response.reason
        except (ClientError, OSError) as exc:
            hook.last_error_date, hook.last_error_message = self._now(), str(exc)
            raise
        if 200 <= status < 300:
            if pending and self._updates and self._updates[0] is update:
                self._updates.pop(0)
        else:
            hook.last_error_date = self._now()
            hook.last_error_message = f"Wrong response from the webhook: {status} {reason}"
        return status

    # ---- request handling -------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: JSON = {}
        try:
            token = request.match_info["token"]
            if token != self.token:
                status = 401 if _TOKEN_SHAPE.match(token) else 404
                raise ApiError(status, HTTPStatus(status).phrase)
            name = self._canonical(method)
            if name is None:
                raise ApiError(404, "Not Found")
            params = await _read_params(request)
            result = await self._dispatch(name, _Params(params))
        except ApiError as error:
            status, body = error.status, error.body()
        else:
            status, body = 200, {"ok": True, "result": result}
            if isinstance(result, _Described):
                body = {"ok": True, "result": result.result, "description": result.description}
        self._record(request, method, params, status, body)
        return web.json_response(body, status=status)

    async def _dispatch(self, name: str, params: _Params) -> Any:
        failure = self._take_failure(name)
        if failure is not None and failure.kind == "http":
            raise _http_error(failure.status, failure.description, failure.retry_after)
        if failure is not None and failure.kind == "timeout":
            await self._hang()
            raise ApiError(504, "Gateway Timeout")
        result = self._methods[name](params)
        if inspect.isawaitable(result):
            result = await result
        if failure is not None:  # lost_reply: done, but the client never hears of it
            await self._hang()
        return result

    def _record(
        self, request: web.Request, method: str, params: JSON, status: int, body: JSON
    ) -> None:
        self.stats.requests += 1
        self.stats.by_status[status] += 1
        if status == 429:
            self.stats.http_429 += 1
        self._calls.append(
            Call(
                method=method,
                params=params,
                status=status,
                http_method=request.method,
                content_type=request.headers.get("Content-Type", "").split(";")[0],
                at=self.clock(),
                response=body,
            )
        )
        self._notify()

    def _take_failure(self, name: str) -> _Failure | None:
        queue = self._failures.get(name)
        if not queue:
            return None
        failure = queue[0]
        failure.count -= 1
        if failure.count <= 0:
            queue.popleft()
        return failure

    async def _hang(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), self.hang_seconds)

    def _canonical(self, method: str) -> str | None:
        return self._by_lower_name.get(method.lower())

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _now(self) -> int:
        return int(self.wall_clock())

    # ---- lookups shared by the methods -------------------------------------------------------

    def _chat(self, p: _Params, *, writing: bool = True) -> StoredChat:
        raw = p.raw.get("chat_id")
        if raw in (None, ""):
            raise _bad_request("chat_id is empty")
        chat: StoredChat | None = None
        if isinstance(raw, str) and raw.startswith("@"):
            chat = next(
                (c for c in self._chats.values() if c.is_group and c.username == raw[1:]), None
            )
        else:
            with contextlib.suppress(ValueError):
                chat = self._chats.get(int(raw))
        if chat is None:
            raise _bad_request("chat not found")
        if writing and chat.blocked:
            reason = (
                "bot was kicked from the group chat"
                if chat.is_group
                else "bot was blocked by the user"
            )
            raise ApiError(403, f"Forbidden: {reason}")
        return chat

    def _bot_message(self, p: _Params, *, action: str) -> StoredMessage:
        if p.has("inline_message_id"):
            raise _bad_request("inline messages are not supported by FakeBotApi")
        chat = self._chat(p)
        message_id = p.get_int("message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        message = self._messages.get((chat.id, message_id))
        if message is None or message.deleted:
            raise _bad_request(f"message to {action} not found")
        if action == "edit" and not message.from_bot:
            raise _bad_request("message can't be edited")
        return message

    def _reply_target(self, p: _Params, chat: StoredChat) -> StoredMessage | None:
        reply = p.get_json("reply_parameters") or {}
        if not isinstance(reply, dict):
            raise _bad_request("can't parse reply parameters JSON object")
        message_id = reply.get("message_id", p.get_int("reply_to_message_id"))
        if message_id is None:
            return None
        lenient = reply.get(
            "allow_sending_without_reply", p.get_bool("allow_sending_without_reply")
        )
        target_chat = chat
        if reply.get("chat_id") not in (None, chat.id):
            target_chat = self._chat(_Params({"chat_id": reply["chat_id"]}), writing=False)
        target = self._messages.get((target_chat.id, int(message_id)))
        if target is None or target.deleted:
            if lenient:
                return None
            raise _bad_request("message to be replied not found")
        return target

    def _bot_sees(self, message: StoredMessage) -> bool:
        """Group privacy mode: commands (for this bot) and replies to the bot get through."""
        if message.reply_to is not None and message.reply_to.from_bot:
            return True
        for entity in message.entities:
            if entity["type"] == "bot_command":
                command = message.text[entity["offset"] : entity["offset"] + entity["length"]]
                _, _, addressee = command.partition("@")
                if addressee in ("", self.bot_user.username):
                    return True
        return False

    def _change(
        self, message: StoredMessage, text: str, entities: list[JSON], markup: JSON | None
    ) -> None:
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise _bad_request(_NOT_MODIFIED)
        if self.enforce_limits:
            self.flood.admit(message.chat, self.clock(), edit=True)
        message.history.append(
            MessageVersion(
                message.text, tuple(message.entities), message.reply_markup, message.edit_date
            )
        )
        message.text, message.entities, message.reply_markup = text, entities, markup
        message.edit_date = self._now()
        self.stats.edits += 1

    # ---- the methods -------------------------------------------------------------------------

    def _true(self, p: _Params) -> bool:
        return True

    def _get_me(self, p: _Params) -> JSON:
        return {
            **self.bot_user.to_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, p: _Params) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(409, _WEBHOOK_CONFLICT)
        offset = p.get_int("offset") or 0
        limit = min(max(p.get_int("limit") or 100, 1), 100)
        timeout = max(p.get_int("timeout") or 0, 0)
        allowed = p.get_json("allowed_updates")
        if allowed is not None:
            self._allowed_updates = frozenset(allowed) or _DEFAULT_UPDATE_TYPES
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # wakes (and so terminates) an earlier long poll
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._confirm(offset)
            offset = 0  # confirm once; -N must not keep trimming the queue
            ready = self._updates[:limit]
            remaining = deadline - loop.time()
            if ready or remaining <= 0 or self._closing.is_set():
                return ready
            changed = self._changed
            self._waiting_polls += 1
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), remaining)
            finally:
                self._waiting_polls -= 1
            if self.webhook is not None:
                raise ApiError(409, _WEBHOOK_CONFLICT)
            if generation != self._poll_generation:
                raise ApiError(409, _POLL_CONFLICT)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        self._updates = [u for u in self._updates if _update_kind(u) in self._allowed_updates]

    def _send_message(self, p: _Params) -> JSON:
        chat = self._chat(p)
        text, entities, parse_mode = _formatted_text(p)
        inline, other = _split_markup(p.get_json("reply_markup"))
        reply_to = self._reply_target(p, chat)
        if self.enforce_limits:
            self.flood.admit(chat, self.clock())
        message = StoredMessage(
            message_id=chat.next_message_id(),
            chat=chat,
            sender=self.bot_user,
            date=self._now(),
            text=text,
            entities=entities,
            reply_markup=inline,
            reply_keyboard=other,
            parse_mode=parse_mode,
            reply_to=reply_to,
        )
        self._messages[chat.id, message.message_id] = message
        self.stats.messages_sent += 1
        return message.to_json()

    def _send_document(self, p: _Params) -> JSON:
        chat = self._chat(p)
        raw = p.raw.get("document")
        if raw in (None, ""):
            raise _bad_request("there is no document in the request")
        if isinstance(raw, bytes):
            if not raw:
                raise _bad_request("file must be non-empty")
            if len(raw) > UPLOAD_LIMIT:
                raise ApiError(413, "Request Entity Too Large")
            name = str(p.raw.get(f"document{_FILENAME}") or "document")
            mime = p.raw.get(f"document{_CONTENT_TYPE}")
            file_id, unique, _ = self.store_file(raw, name=name)
            data = raw
        else:
            found = self._files.get(str(raw))
            if found is None:  # neither a known file_id nor (here) a URL
                raise _bad_request("wrong file identifier/HTTP URL specified")
            file_id, (data, unique, _) = str(raw), found
            name, mime = "document", None
        caption = p.get_str("caption") or ""
        if len(caption) > CAPTION_LIMIT:
            raise _bad_request("message caption is too long")
        reply_to = self._reply_target(p, chat)
        inline, other = _split_markup(p.get_json("reply_markup"))
        if self.enforce_limits:
            self.flood.admit(chat, self.clock())
        document: JSON = {"file_id": file_id, "file_unique_id": unique, "file_name": name,
                          "file_size": len(data)}
        if isinstance(mime, str) and mime and mime != "application/octet-stream":
            document["mime_type"] = mime
        message = StoredMessage(
            message_id=chat.next_message_id(), chat=chat, sender=self.bot_user,
            date=self._now(), text=caption, reply_markup=inline, reply_keyboard=other,
            reply_to=reply_to, media={"document": document})
        self._messages[chat.id, message.message_id] = message
        self.stats.messages_sent += 1
        return message.to_json()

    def _get_file(self, p: _Params) -> JSON:
        file_id = p.get_str("file_id") or ""
        found = self._files.get(file_id)
        if found is None:
            raise _bad_request("invalid file_id")
        data, unique, path = found
        if len(data) > DOWNLOAD_LIMIT:
            raise _bad_request("file is too big")
        return {"file_id": file_id, "file_unique_id": unique, "file_size": len(data),
                "file_path": path}

    async def _download(self, request: web.Request) -> web.Response:
        """A file by the ``file_path`` getFile gave (``/file/bot<token>/<path>``)."""
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        path = request.match_info["path"]
        data = next((d for d, _, p in self._files.values() if p == path), None)
        if data is None:
            return web.json_response({"ok": False, "error_code": 404,
                                      "description": "Not Found"}, status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    def _edit_message_text(self, p: _Params) -> JSON:
        message = self._bot_message(p, action="edit")
        text, entities, parse_mode = _formatted_text(p)
        inline, _ = _split_markup(p.get_json("reply_markup"))
        self._change(message, text, entities, inline)
        message.parse_mode = parse_mode
        return message.to_json()

    def _edit_message_reply_markup(self, p: _Params) -> JSON:
        message = self._bot_message(p, action="edit")
        inline, _ = _split_markup(p.get_json("reply_markup"))
        self._change(message, message.text, message.entities, inline)
        return message.to_json()

    def _delete_message(self, p: _Params) -> bool:
        message = self._bot_message(p, action="delete")
        if message.chat.is_group and not message.from_bot:
            raise _bad_request("message can't be deleted")
        message.deleted = True
        return True

    def _answer_callback_query(self, p: _Params) -> bool:
        query = self._queries.get(p.get_str("callback_query_id") or "")
        if query is None or query.answered:
            raise _bad_request(_QUERY_INVALID)
        if len(p.get_str("text") or "") > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        query.answer = {
            "text": p.get_str("text"),
            "show_alert": p.get_bool("show_alert"),
            "url": p.get_str("url"),
            "cache_time": p.get_int("cache_time") or 0,
        }
        return True

    def _set_my_commands(self, p: _Params) -> bool:
        commands = p.get_json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_NAME_RE.match(
                str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _bad_request("command description is empty")
        key = (_scope_key(p.get_json("scope")), p.get_str("language_code") or "")
        self._commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _get_my_commands(self, p: _Params) -> list[JSON]:
        key = (_scope_key(p.get_json("scope")), p.get_str("language_code") or "")
        return list(self._commands.get(key, []))

    def _delete_my_commands(self, p: _Params) -> bool:
        key = (_scope_key(p.get_json("scope")), p.get_str("language_code") or "")
        self._commands.pop(key, None)
        return True

    def _set_webhook(self, p: _Params) -> _Described:
        url = p.get_str("url") or ""
        if not url:
            return self._delete_webhook(p)
        _check_webhook_url(url)
        secret = p.get_str("secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.match(secret):
            raise _bad_request("bad webhook: secret token contains unallowed characters")
        if p.get_bool("drop_pending_updates"):
            self._updates.clear()
        allowed = p.get_json("allowed_updates")
        if allowed is not None:
            self._allowed_updates = frozenset(allowed) or _DEFAULT_UPDATE_TYPES
        already = self.webhook is not None and self.webhook.url == url
        self.webhook = WebhookState(
            url=url,
            secret_token=secret,
            max_connections=p.get_int("max_connections") or 40,
            ip_address=p.get_str("ip_address"),
            has_custom_certificate=p.has("certificate"),
        )
        self._poll_generation += 1  # a pending long poll ends with 409
        self._notify()
        return _Described(True, "Webhook is already set" if already else "Webhook was set")

    def _delete_webhook(self, p: _Params) -> _Described:
        if p.get_bool("drop_pending_updates"):
            self._updates.clear()
        existed, self.webhook = self.webhook is not None, None
        return _Described(True, "Webhook was deleted" if existed else "Webhook is already deleted")

    def _get_webhook_info(self, p: _Params) -> JSON:
        info: JSON = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        hook = self.webhook
        if hook is not None:
            info.update(url=hook.url, has_custom_certificate=hook.has_custom_certificate)
            if hook.ip_address:
                info["ip_address"] = hook.ip_address
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
            info["max_connections"] = hook.max_connections
            if self._allowed_updates != _DEFAULT_UPDATE_TYPES:
                info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    def _get_chat(self, p: _Params) -> JSON:
        return self._chat(p, writing=False).full_info()

    def _get_chat_member_count(self, p: _Params) -> int:
        chat = self._chat(p, writing=False)
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was kicked from the group chat")
        if not chat.is_group:
            return 2  # a private chat: the person and the bot
        return len(chat.members)

    def _get_chat_member(self, p: _Params) -> JSON:
        chat = self._chat(p, writing=False)
        user_id = p.get_int("user_id", required=True)
        assert user_id is not None
        user = self.bot_user if user_id == self.bot_user.id else self._users.get(user_id)
        if user is None:
            raise _bad_request("PARTICIPANT_ID_INVALID")
        if not chat.is_group:
            return _chat_member(user, "member")
        return _chat_member(user, chat.members.get(user_id, "left"))

    def _send_chat_action(self, p: _Params) -> bool:
        self._chat(p)
        if p.get_str("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True


def _scope_key(scope: Any) -> str:
    if scope in (None, ""):
        scope = {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise _bad_request("can't parse BotCommandScope JSON object")
    return json.dumps(scope, sort_keys=True)


def _chat_member(user: StoredUser, status: str) -> JSON:
    """A ChatMember object of the given status, with the fields the Bot API sends."""
    data: JSON = {"status": status, "user": user.to_json()}
    if status == "administrator":
        data.update({
            "can_be_edited": False, "is_anonymous": False, "can_manage_chat": True,
            "can_delete_messages": False, "can_manage_video_chats": False,
            "can_restrict_members": False, "can_promote_members": False,
            "can_change_info": False, "can_invite_users": True, "can_post_stories": False,
            "can_edit_stories": False, "can_delete_stories": False,
        })
    elif status == "creator":
        data["is_anonymous"] = False
    elif status == "kicked":
        data["until_date"] = 0
    return data


def _update_kind(update: JSON) -> str:
    return next(key for key in update if key != "update_id")


def _check_webhook_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.hostname in _LOOPBACK_HOSTS and parts.scheme in ("http", "https"):
        return  # the stand-in lets a test's local receiver listen anywhere
    if parts.scheme != "https":
        raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if (parts.port or 443) not in (80, 88, 443, 8443):
        raise _bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")


__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "Call",
    "FakeBotApi",
    "FloodLimits",
    "MessageVersion",
    "Stats",
    "StoredCallbackQuery",
    "StoredChat",
    "StoredMessage",
    "StoredUser",
    "WebhookState",
]
