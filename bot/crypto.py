"""Encryption at rest: free text and identities are stored encrypted, with a key from the
environment (``[security] key`` / ``KORTELIJN_SECURITY__KEY``).

The key is 32 random bytes written in base64 (``kortelijn genkey`` makes one). From it HKDF
derives three keys: one for AES-256-GCM, one for AES-SIV and one for HMAC-SHA256 look-up hashes.
A stored value carries a versioned prefix with the id of the key that made it::

    v1:<key id>:<base64url(nonce ‖ cipher text ‖ tag)>   AES-256-GCM, a random nonce per value
    d1:<key id>:<base64url(SIV ‖ cipher text)>           AES-SIV, deterministic (see below)

The authenticated data of each value names where it is stored: its table, its column and,
for values with a random nonce, its row (version ``v3``)::

    v3:<key id>:<base64url(nonce ‖ cipher text ‖ tag)>   bound to table.column and row

A row is named by its ``row_key``: random, made by the bot when the row is first written (no
statement is needed to know it, unlike an id), and never changed. A cipher text copied into
another row, another column or another table does not open there. Values SQL compares for
equality (chat addresses, ``d2``) stay bound to their column only: the same address must give
the same value in every row. Older forms open only where a migration or ``kortelijn rekey``
reads them: ``v2`` (bound to its column, before revision 0011) without a row, ``v1`` / ``d1``
(bound to nothing, before 0008) without a context.

So keys can rotate: values are written with the first key and read with whichever configured
key made them (``[security] old_keys``); ``kortelijn rekey`` rewrites everything with the first.

Most columns use :class:`EncryptedText` / :class:`EncryptedJSON` (a fresh nonce each time, so
equal texts look different). A chat address that SQL must compare for equality (the outbox's
order per chat, a group's case chat) uses :class:`EncryptedAddress`: the same address gives the
same cipher text under one key; that reveals only which rows share an address. A person's
identity is found by a keyed hash instead (:meth:`Keyring.lookup_hashes`), which works across
a rotation.

The column types need the keyring while the bot runs: :func:`install` sets it for the process
(``bot.app.KorteLijn`` does at start-up, ``kortelijn migrate`` too; tests in ``conftest.py``).
Without one, reading or writing an encrypted column raises :class:`KeyringMissing`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import LargeBinary, Text, TypeDecorator, func, literal_column, type_coerce
from sqlalchemy.engine import Dialect

from bot.config import ConfigError

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

KEY_BYTES = 32
#: random-nonce values bound to their column and row; deterministic ones bound to their column
ROW_RANDOM = "v3"
SEALED = "d2"
#: random-nonce values bound to their column only (before revision 0011)
RANDOM = "v2"
#: the same, unbound (written before revision 0008); read only when asked to
OLD_RANDOM = "v1"
OLD_SEALED = "d1"
_NONCE = 12


class DecryptionError(Exception):
    """A stored value that no configured key opens (a wrong or missing key, or tampering)."""


class KeyringMissing(RuntimeError):
    """An encrypted column was used before :func:`install`."""


def generate_key() -> str:
    """A new random key, as it goes into ``[security] key``."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def parse_key(text: str, *, name: str = "security.key") -> bytes:
    """32 bytes from base64 (standard or URL-safe, padding optional). The error message
    never repeats the value."""
    cleaned = "".join(text.split())
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        raw = base64.b64decode(cleaned.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise ConfigError(f"{name}: not a key; it must be {KEY_BYTES} random bytes in base64 "
                          f"(make one with: kortelijn genkey)")
    return raw


def _derive(master: bytes, label: str, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None,
                info=f"kortelijn/{label}".encode()).derive(master)


def _aad(header: str, context: str | None, row: str | None = None) -> bytes:
    """The authenticated data: the value's header and, when bound, where it is stored."""
    if context is None:
        return header.encode()
    return f"{header}|{context}".encode() if row is None else f"{header}|{context}|{row}".encode()


#: the length of a row key (``new_row_key``): 16 random bytes in base64url
ROW_KEY_LENGTH = 22


def new_row_key() -> str:
    """A row's own key, the row part of its values' authenticated data (random: it names
    the row before it is written, and says nothing of it)."""
    return _b64(secrets.token_bytes(16))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class _Key:
    id: str
    aead: AESGCM
    siv: AESSIV
    lookup: bytes

    @classmethod
    def derive(cls, master: bytes) -> _Key:
        return cls(id=_derive(master, "key-id", 4).hex(),
                   aead=AESGCM(_derive(master, "aes-gcm", 32)),
                   siv=AESSIV(_derive(master, "aes-siv", 64)),
                   lookup=_derive(master, "lookup-hmac", 32))


class Keyring:
    """The configured keys: the first writes, any of them reads."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self._keys = [_Key.derive(k) for k in keys]
        self._by_id = {k.id: k for k in self._keys}
        if len(self._by_id) != len(self._keys):
            raise ConfigError("security: the same key is configured twice")

    @property
    def key_id(self) -> str:
        """The id of the key that writes (not secret: it names the key, it reveals nothing)."""
        return self._keys[0].id

    # --- values that look different every time ------------------------------------------
    def encrypt(self, text: str, context: str | None = None, row: str | None = None) -> str:
        """``text`` under the writing key with a fresh nonce, bound to ``context`` (the
        ``table.column`` it is stored in) and ``row`` (the row's ``row_key``); without a row,
        the form of before 0011, without a context the unbound form of before 0008."""
        key = self._keys[0]
        nonce = os.urandom(_NONCE)
        version = OLD_RANDOM if context is None else RANDOM if row is None else ROW_RANDOM
        header = f"{version}:{key.id}"
        sealed = key.aead.encrypt(nonce, text.encode(), _aad(header, context, row))
        return f"{header}:{_b64(nonce + sealed)}"

    def encrypt_bytes(self, data: bytes, context: str) -> bytes:
        """Binary data (an attachment, a document waiting in the outbox) as
        ``<header>\n<nonce ‖ cipher text ‖ tag>``, bound to ``context`` like :meth:`encrypt`."""
        key = self._keys[0]
        nonce = os.urandom(_NONCE)
        header = f"{RANDOM}:{key.id}"
        return header.encode() + b"\n" + nonce + key.aead.encrypt(nonce, data,
                                                                _aad(header, context))

    def decrypt_bytes(self, stored: bytes, context: str) -> bytes:
        """The data of a value made by :meth:`encrypt_bytes` with any configured key."""
        head, sep, body = bytes(stored).partition(b"\n")
        version, _, key_id = head.decode("ascii", "replace").partition(":")
        key = self._by_id.get(key_id)
        if not sep or version != RANDOM or key is None:
            raise DecryptionError("not an encrypted value under a configured key")
        try:
            return key.aead.decrypt(body[:_NONCE], body[_NONCE:], _aad(head.decode(), context))
        except (InvalidTag, ValueError) as error:
            raise DecryptionError(f"a value under key {key_id} does not open here") from error

    # --- values SQL compares for equality ------------------------------------------------
    def seal(self, text: str, context: str | None = None) -> str:
        """Deterministic: the same text gives the same value under the same key and in the
        same ``context``."""
        key = self._keys[0]
        header = f"{SEALED if context is not None else OLD_SEALED}:{key.id}"
        return f"{header}:{_b64(key.siv.encrypt(text.encode(), [_aad(header, context)]))}"

    def decrypt(self, token: str, context: str | None = None, row: str | None = None) -> str:
        """The text of a value made by :meth:`encrypt` or :meth:`seal` with any configured key.
        A value bound to a column opens only in that ``context``, one bound to a row only with
        that ``row``; a value of an older form only where it was read before (a ``v2`` one
        without a row, an unbound one without a context): the column types always give
        theirs, so an old or moved value never opens through them (the migrations and
        ``rekey`` read the old ones)."""
        version, _, rest = token.partition(":")
        key_id, _, body = rest.partition(":")
        if version not in (ROW_RANDOM, RANDOM, SEALED, OLD_RANDOM, OLD_SEALED) or not body:
            raise DecryptionError("not an encrypted value")
        old = version in (OLD_RANDOM, OLD_SEALED)
        if old and context is not None:
            raise DecryptionError("a value bound to no column (written before revision "
                                  "0008); run the migrations")
        if version == RANDOM and row is not None:
            raise DecryptionError("a value bound to no row (written before revision 0011); "
                                  "run the migrations")
        if version == ROW_RANDOM and (context is None or row is None):
            raise DecryptionError("a value bound to a row opens only in its row")
        key = self._by_id.get(key_id)
        if key is None:
            raise DecryptionError(f"no configured key has id {key_id}; is the right "
                                  f"[security] key (or old_keys) set?")
        header = f"{version}:{key_id}"
        # bound: only in its context (and its row)
        aad = _aad(header, None if old else context or "",
                   row if version == ROW_RANDOM else None)
        try:
            data = _unb64(body)
            if version in (ROW_RANDOM, RANDOM, OLD_RANDOM):
                plain = key.aead.decrypt(data[:_NONCE], data[_NONCE:], aad)
            else:
                plain = key.siv.decrypt(data, [aad])
        except (InvalidTag, ValueError, binascii.Error) as error:
            raise DecryptionError(f"a value under key {key_id} does not open here") from error
        return plain.decode()

    @staticmethod
    def is_bound(token: str) -> bool:
        """Whether a stored value is bound to its column (written since revision 0008)."""
        return token.split(":", 1)[0] in (ROW_RANDOM, RANDOM, SEALED)

    @staticmethod
    def is_row_bound(token: str) -> bool:
        """Whether a stored value is bound to its row (written since revision 0011)."""
        return token.split(":", 1)[0] == ROW_RANDOM

    def is_current(self, token: str) -> bool:
        """Whether a stored value was made with the key that writes now, in the form of now
        (bound to its column, and a random-nonce one to its row)."""
        return token.split(":", 1)[0] in (ROW_RANDOM, SEALED) and \
            token.split(":", 2)[1:2] == [self._keys[0].id]

    # --- keyed hashes for look-ups -------------------------------------------------------
    def lookup_hash(self, text: str) -> str:
        """HMAC-SHA256 of ``text`` under the writing key (hex, 64 characters)."""
        return self._hash(self._keys[0], text)

    def lookup_hashes(self, text: str) -> list[str]:
        """The hash under every configured key, the writing key's first (a look-up across a
        rotation)."""
        return [self._hash(k, text) for k in self._keys]

    @staticmethod
    def _hash(key: _Key, text: str) -> str:
        return hmac.new(key.lookup, text.encode(), hashlib.sha256).hexdigest()


_current: list[Keyring] = []


def install(ring: Keyring) -> None:
    """Make ``ring`` the process's keyring (the column types below use it)."""
    _current[:] = [ring]


def keyring() -> Keyring:
    if not _current:
        raise KeyringMissing("no encryption key configured: bot.crypto.install() was not called")
    return _current[0]


def keyring_from_settings(settings: Settings) -> Keyring:
    """The keyring the settings describe. Production needs ``[security] key``; development
    without one keeps a key in ``[security] key_file``, made on first start."""
    security = settings.security
    if security.key is not None:
        primary = parse_key(security.key.get_secret_value())
    elif settings.bot.mode == "production":
        raise ConfigError(
            "production mode needs an encryption key: set KORTELIJN_SECURITY__KEY (or "
            "[security] key) to 32 random bytes in base64; make one with: kortelijn genkey")
    else:
        primary = development_key(security.key_file)
    old = [parse_key(k.get_secret_value(), name=f"security.old_keys[{i}]")
           for i, k in enumerate(security.old_keys)]
    return Keyring([primary, *[k for k in old if k != primary]])


def development_key(path: Path) -> bytes:
    """The key kept in ``path``, made (readable by this user only) when there is none yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it just now
        else:
            with os.fdopen(fd, "w") as out:
                out.write(generate_key() + "\n")
            log.warning("made a development encryption key in %s; keep it with the database "
                        "(without it the data cannot be read)", path)
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(f"security.key_file: cannot read {path}: {error.strerror}") from None
    return parse_key(text, name=f"security.key_file ({path})")


# --- column types --------------------------------------------------------------------------
class _Bound:
    """A column type that knows where it stores its values (``table.column``)."""

    def __init__(self, context: str) -> None:
        super().__init__()
        if "." not in context:
            raise ValueError("an encrypted column names its place: 'table.column'")
        self.context = context


class RowBound(str):
    """A text on its way into a row-bound column, with the ``row_key`` of its row."""

    row: str

    def __new__(cls, text: str, row: str) -> Self:
        made = super().__new__(cls, text)
        made.row = row
        return made


class RowBoundJSON(dict[str, Any]):
    """A JSON object on its way into a row-bound column, with the ``row_key`` of its row."""

    def __init__(self, value: dict[str, Any], row: str) -> None:
        super().__init__(value)
        self.row = row


class RowKeyMissing(ValueError):
    """A value for a row-bound column was written without its row's key."""


#: the column every table with row-bound values has: the row's key (``new_row_key``)
ROW_KEY = "row_key"
#: between the row key and the value, as a row-bound column is read (``column_expression``)
_JOIN = "|"


def bound_to_row(value: Any, row: str) -> Any:
    """``value`` (a text or a JSON object) marked with its row's key, for a row-bound column."""
    if value is None or isinstance(value, RowBound | RowBoundJSON):
        return value
    if isinstance(value, str):
        return RowBound(value, row)
    if isinstance(value, dict):
        return RowBoundJSON(value, row)
    return value


class _RowBound(_Bound):
    """A column whose values are bound to their row as well: written as a :class:`RowBound`
    value (``bind_row`` makes one), read together with the row's key."""

    def column_expression(self, column: Any) -> Any:
        # read as "<row key>|<value>": the row it is read from names the row it must open in
        row_key = column.table.c[ROW_KEY]
        # literals in the SQL, not parameters: the statement stays one to compile once
        joined = func.coalesce(row_key, literal_column("''")).concat(
            literal_column(f"'{_JOIN}'")).concat(column)
        return type_coerce(joined,
                           self)  # type: ignore[arg-type]  # a TypeDecorator (subclasses)

    def _open(self, value: str | None) -> str | None:
        if value is None:
            return None
        row, _, token = value.partition(_JOIN)
        if token == "":
            return ""  # an emptied text (erasure) is stored as it is: nothing to hide
        return keyring().decrypt(token, self.context, row or None)

    def _seal(self, value: Any, text: str) -> str:
        row = getattr(value, "row", None)
        if row is None:
            raise RowKeyMissing(f"{self.context}: a value written without its row's key")
        return keyring().encrypt(text, self.context, row)


class EncryptedText(_RowBound, TypeDecorator[str]):
    """Text stored encrypted (AES-256-GCM, a fresh nonce each time), bound to its column and
    its row. Never compare it in SQL: equal texts are stored differently."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or value == "":
            return value
        return self._seal(value, value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return self._open(value)


class EncryptedAddress(_Bound, TypeDecorator[str]):
    """A chat address stored encrypted deterministically (AES-SIV), bound to its column, so
    SQL can still compare it for equality, with a literal or with the same column of another
    row."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else keyring().seal(value, self.context)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else keyring().decrypt(value, self.context)


class EncryptedJSON(_RowBound, TypeDecorator[Any]):
    """A JSON value stored encrypted, as :class:`EncryptedText`."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return self._seal(value, json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        opened = self._open(value)
        return None if opened is None else json.loads(opened) if opened else {}


def row_bound_columns(table: Any) -> list[str]:
    """The keys of a table's row-bound columns (none: the table has no row key)."""
    found = _ROW_BOUND.get(table)
    if found is None:
        found = _ROW_BOUND[table] = [c.key for c in table.columns
                                     if isinstance(c.type, _RowBound)]
    return found


def bind_row(table: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The values of a row about to be inserted into ``table``, with its row key (made if it
    has none yet) and every row-bound value marked with it."""
    columns = row_bound_columns(table)
    if not columns:
        return values
    row = values.get(ROW_KEY) or new_row_key()
    bound = {**values, ROW_KEY: row}
    for key in columns:
        if key in bound:
            bound[key] = bound_to_row(bound[key], row)
    return bound


_ROW_BOUND: dict[Any, list[str]] = {}


class EncryptedBytes(_Bound, TypeDecorator[bytes]):
    """Binary data stored encrypted (AES-256-GCM, a fresh nonce each time), bound to its
    column: attachments and documents waiting in the outbox."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        return None if value is None else keyring().encrypt_bytes(value, self.context)

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        return None if value is None else keyring().decrypt_bytes(value, self.context)
