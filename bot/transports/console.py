"""The console: a line-based chat in the terminal that stands in for many people's phones.

``/als <naam>`` (or ``/as``) switches who is typing; every other line is exactly what a Telegram
or Matrix user would type. Each message the bot sends is printed with the recipient's name in
brackets in front, on every line (``[Naam] …``), so a script can tell who received what.
Choices are shown as numbered options; typing the number picks one (the core resolves it
through the choices stored with the message, so it works the same after a restart). It reads
a terminal or a pipe alike; at the end of its input it stops the bot (after delivering what is
due).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
import re
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from bot.domain.model import normalise_word
from bot.i18n import t
from bot.transports.base import Attachment, Incoming, IncomingHandler, Outgoing

log = logging.getLogger(__name__)

SWITCH_COMMANDS = ("/als", "/as")
#: ``… < /path/to/file`` at the end of a line sends that file with it (a console stand-in for
#: a phone's attachment button)
_ATTACH = re.compile(r"\s<\s*(\S.*)$")


def console_address(name: str) -> str:
    """A person's console identity: the name, case and accents folded."""
    return normalise_word(name)


class ConsoleTransport:
    name = "console"

    def __init__(self, first_person: str, *, stdin: TextIO | None = None,
                 stdout: TextIO | None = None, language: str = "nl",
                 on_eof: Callable[[], None] | None = None,
                 after_line: Callable[[], Awaitable[object]] | None = None,
                 documents_dir: Path | None = None, attachment_limit: int = 20_000_000
                 ) -> None:
        #: where a document sent to a console person is written (``[dossier] console_dir``)
        self._documents_dir = documents_dir or Path("var/exports")
        #: a file larger than this is not read (the core says it is too large)
        self._attachment_limit = attachment_limit
        self._stdin = stdin or sys.stdin
        self._stdout = stdout or sys.stdout
        self._language = language
        self._on_eof = on_eof or (lambda: None)
        #: awaited after each line, so output follows input in a scripted run
        self._after_line = after_line
        self.current = first_person.strip()
        self._names: dict[str, str] = {console_address(self.current): self.current}
        #: per chat, the outbox id of the last list or question shown (what a number is for)
        self._shown: dict[str, int] = {}
        self._messages = 0
        self._task: asyncio.Task[None] | None = None
        self._interactive = bool(getattr(self._stdin, "isatty", lambda: False)())

    # --- receiving --------------------------------------------------------------------------
    async def start(self, on_incoming: IncomingHandler) -> None:
        self._task = asyncio.create_task(self._read(on_incoming), name="console-reader")

    async def stop(self) -> None:
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _read(self, on_incoming: IncomingHandler) -> None:
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def pump() -> None:  # a daemon thread: a blocked read never holds up shutdown
            try:
                for line in self._stdin:
                    loop.call_soon_threadsafe(lines.put_nowait, line)
            finally:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(lines.put_nowait, None)

        threading.Thread(target=pump, name="console-stdin", daemon=True).start()
        self._prompt()
        while True:
            line = await lines.get()
            if line is None:
                self._on_eof()
                return
            try:
                await self.feed(line, on_incoming)
            except Exception:
                log.exception("console line could not be handled")
            self._prompt()

    async def feed(self, line: str, on_incoming: IncomingHandler) -> None:
        """Handle one typed line as the current person."""
        text = line.strip()
        if not text or text.startswith("#"):
            return
        word, _, rest = text.partition(" ")
        if word.lower() in SWITCH_COMMANDS:
            name = rest.strip()
            if name:
                self.current = name
                self._names.setdefault(console_address(name), name)
            self._print("console", t(self._language, "console.now_typing", name=self.current))
            return
        address = console_address(self.current)
        attachments: tuple[Attachment, ...] = ()
        found = _ATTACH.search(text)
        if found and text.startswith("/"):
            attachments, text = (self._read_file(found.group(1).strip()),), \
                text[:found.start()].strip()
        # a number picks among the choices of the last list shown to this person (unless a
        # question came after it: then it is the answer); the core resolves it through the
        # choices stored with that message (after a restart, when the console has shown
        # nothing yet, through the last list or question delivered here)
        index = int(text) - 1 if text.isdecimal() else None
        await on_incoming(Incoming(
            transport=self.name, chat_id=address, sender_id=address, sender_name=self.current,
            text=text, is_choice=index is not None, choice_index=index,
            choice_outbox_id=self._shown.get(address) if index is not None else None,
            attachments=attachments))
        if self._after_line is not None:
            await self._after_line()

    def _read_file(self, given: str) -> Attachment:
        """A file named on the command line, read as a phone would send it (a file that cannot
        be read arrives empty: the core says what is accepted)."""
        path = Path(given).expanduser()
        mime = mimetypes.guess_type(path.name)[0]
        try:
            size = path.stat().st_size
            data = path.read_bytes() if size <= self._attachment_limit else None
        except OSError:
            return Attachment(filename=path.name, mime=mime, size=0, data=b"")
        return Attachment(filename=path.name, mime=mime, size=size, data=data)

    # --- sending ----------------------------------------------------------------------------
    def _write_document(self, message: Outgoing) -> Path:
        """A document for a console person: written to the documents directory."""
        assert message.document is not None  # noqa: S101
        self._documents_dir.mkdir(parents=True, exist_ok=True)
        name = Path(message.document.filename).name or "document"
        path = self._documents_dir / name
        path.write_bytes(message.document.data)
        return path

    async def send(self, message: Outgoing) -> str:
        self._messages += 1
        if message.document is not None:
            path = self._write_document(message)
            name = message.recipient_label or self._names.get(message.chat_id, message.chat_id)
            for line in message.text.splitlines() or [""]:
                self._print(name, line)
            self._print(name, t(message.language or self._language, "console.document",
                                path=str(path)))
            return str(self._messages)
        if message.edit_of is not None and message.extra.get("kind") == "picked":
            # a list closed after a pick: in a terminal the typed number already shows it
            return str(self._messages)
        name = message.recipient_label or self._names.get(message.chat_id, message.chat_id)
        text = message.text
        if message.edit_of is not None:
            text = t(message.language or self._language, "console.edited") + " " + text
        lines = text.splitlines() or [""]
        for number, choice in enumerate(message.choices, start=1):
            lines.append(f"  {number}) {choice.label}  ({choice.command})" if choice.command
                         else f"  {number}) {choice.label}")
        if message.outbox_id is not None and (message.choices
                                              or message.extra.get("kind") == "prompt"):
            # a list, or a question (after which a number is an answer, not a pick)
            self._shown[message.chat_id] = message.outbox_id
        for line in lines:
            self._print(name, line)
        return str(self._messages)

    def announce(self, text: str) -> None:
        """A line from the console itself (not a message to anyone)."""
        self._print("console", text)

    def _print(self, name: str, line: str) -> None:
        self._stdout.write(f"[{name}] {line}\n")
        self._stdout.flush()

    def _prompt(self) -> None:
        if self._interactive:
            self._stdout.write(f"{self.current}> ")
            self._stdout.flush()
