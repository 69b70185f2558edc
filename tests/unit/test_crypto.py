"""The keyring: values open with the key that made them and no other; keys rotate; the key
comes from the settings, production refuses to start without one, development keeps one in a
file. And long exports are split into chat-sized messages."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot import crypto
from bot.app import KorteLijn
from bot.config import ConfigError, Settings
from bot.persistence.orm import Base
from bot.services.exports import chunks

KEY_A = crypto.generate_key()
KEY_B = crypto.generate_key()


def ring(*keys: str) -> crypto.Keyring:
    return crypto.Keyring([crypto.parse_key(k) for k in keys])


def test_a_value_opens_with_its_key_and_looks_different_each_time() -> None:
    keys = ring(KEY_A)
    first, second = keys.encrypt("Huur oktober"), keys.encrypt("Huur oktober")
    assert first != second
    assert "Huur" not in first
    assert first.startswith(f"v1:{keys.key_id}:")
    assert keys.decrypt(first) == keys.decrypt(second) == "Huur oktober"
    assert keys.decrypt(keys.encrypt("")) == ""
    assert keys.decrypt(keys.encrypt("zoë ✓")) == "zoë ✓"


def test_a_sealed_address_is_the_same_each_time_and_opens() -> None:
    keys = ring(KEY_A)
    assert keys.seal("123456") == keys.seal("123456")
    assert keys.seal("123456") != keys.seal("123457")
    assert keys.decrypt(keys.seal("123456")) == "123456"
    assert ring(KEY_B).seal("123456") != keys.seal("123456")


def test_a_value_opens_only_in_the_row_it_was_written_for() -> None:
    keys = ring(KEY_A)
    here, there = crypto.new_row_key(), crypto.new_row_key()
    assert here != there
    assert len(here) == crypto.ROW_KEY_LENGTH
    note = keys.encrypt("zorgplan", "signals.note", here)
    assert note.startswith(f"v3:{keys.key_id}:")
    assert keys.is_row_bound(note)
    assert keys.decrypt(note, "signals.note", here) == "zorgplan"
    for context, row in (("signals.note", there), ("signals.note", None),
                         ("signals.complainant", here), (None, None)):
        with pytest.raises(crypto.DecryptionError):
            keys.decrypt(note, context, row)
    # a value bound to its column only (before revision 0011) never opens through a row
    old = keys.encrypt("zorgplan", "signals.note")
    assert keys.decrypt(old, "signals.note") == "zorgplan"
    with pytest.raises(crypto.DecryptionError):
        keys.decrypt(old, "signals.note", here)


def test_a_value_opens_only_in_the_column_it_was_written_for() -> None:
    keys = ring(KEY_A)
    note = keys.encrypt("zorgplan", "signals.note")
    assert note.startswith(f"v2:{keys.key_id}:")
    assert keys.decrypt(note, "signals.note") == "zorgplan"
    for elsewhere in ("signals.complainant", "outbox.text", "persons.display_name", None):
        with pytest.raises(crypto.DecryptionError):
            keys.decrypt(note, elsewhere)
    address = keys.seal("123", "outbox.address")
    assert address == keys.seal("123", "outbox.address")
    assert address != keys.seal("123", "case_chats.address")
    with pytest.raises(crypto.DecryptionError):
        keys.decrypt(address, "case_chats.address")
    # a value of before revision 0008 (bound to nothing) never opens through a column
    with pytest.raises(crypto.DecryptionError):
        keys.decrypt(keys.encrypt("oud"), "signals.note")


def test_a_wrong_key_reads_nothing() -> None:
    stored = ring(KEY_A).encrypt("geheim")
    with pytest.raises(crypto.DecryptionError):
        ring(KEY_B).decrypt(stored)
    with pytest.raises(crypto.DecryptionError):
        ring(KEY_B).decrypt(ring(KEY_A).seal("geheim"))
    # the same key id but altered cipher text: refused, not garbage
    tampered = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    with pytest.raises(crypto.DecryptionError):
        ring(KEY_A).decrypt(tampered)
    with pytest.raises(crypto.DecryptionError):
        ring(KEY_A).decrypt("plain text")


def test_rotation_reads_with_the_old_key_and_writes_with_the_new() -> None:
    old = ring(KEY_A)
    rotated = ring(KEY_B, KEY_A)
    stored = old.encrypt("geheim")
    assert rotated.decrypt(stored) == "geheim"
    assert not rotated.is_current(stored)
    fresh = rotated.encrypt("geheim", "signals.note", crypto.new_row_key())
    assert rotated.is_current(fresh)
    # bound to its column but not to its row (before revision 0011): rewritten by rekey
    assert not rotated.is_current(rotated.encrypt("geheim", "signals.note"))
    assert not rotated.is_current(rotated.encrypt("geheim"))  # unbound: rewritten by rekey
    with pytest.raises(crypto.DecryptionError):
        old.decrypt(fresh, "signals.note")
    # look-ups find an identity hashed under either key, the writing key's hash first
    assert rotated.lookup_hashes("123") == [ring(KEY_B).lookup_hash("123"),
                                            old.lookup_hash("123")]
    assert len(old.lookup_hash("123")) == 64
    assert old.lookup_hash("123") != old.lookup_hash("124")


def test_a_key_must_be_32_bytes_and_the_error_does_not_repeat_it() -> None:
    assert len(crypto.parse_key(KEY_A)) == 32
    assert crypto.parse_key(KEY_A.rstrip("=")) == crypto.parse_key(KEY_A)
    with pytest.raises(ConfigError) as caught:
        crypto.parse_key("too-short-secret")
    assert "too-short-secret" not in str(caught.value)
    with pytest.raises(ConfigError, match="twice"):
        ring(KEY_A, KEY_A)


def test_production_refuses_to_start_without_a_key(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.delenv("KORTELIJN_SECURITY__KEY")
    settings = Settings.model_validate({
        "bot": {"mode": "production"},
        "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"},
        "security": {"key_file": str(tmp_path / "k.key")}})
    with pytest.raises(ConfigError, match="KORTELIJN_SECURITY__KEY"):
        KorteLijn(settings)
    assert not (tmp_path / "k.key").exists()  # no key file in production


def test_development_keeps_a_key_file_made_on_first_start(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    monkeypatch.delenv("KORTELIJN_SECURITY__KEY")
    path = tmp_path / "var" / "kortelijn.key"
    settings = Settings.model_validate({"security": {"key_file": str(path)}})
    first = crypto.keyring_from_settings(settings)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = crypto.keyring_from_settings(settings)
    assert again.decrypt(first.encrypt("x")) == "x"
    path.write_text("not a key\n")
    with pytest.raises(ConfigError, match="key_file"):
        crypto.keyring_from_settings(settings)


def test_the_key_from_the_environment_wins_and_old_keys_still_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KORTELIJN_SECURITY__KEY", KEY_B)
    monkeypatch.setenv("KORTELIJN_SECURITY__OLD_KEYS", f'["{KEY_A}"]')
    keys = crypto.keyring_from_settings(Settings())
    assert keys.key_id == ring(KEY_B).key_id
    assert keys.decrypt(ring(KEY_A).encrypt("oud")) == "oud"
    assert KEY_B not in repr(Settings().security)


def test_without_a_keyring_the_columns_refuse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto, "_current", [])
    with pytest.raises(crypto.KeyringMissing):
        crypto.keyring()


def test_long_exports_are_split_under_the_limit_at_line_ends() -> None:
    text = "\n".join(f"regel {n:04d} " + "x" * 60 for n in range(200))
    parts = chunks(text)
    assert len(parts) > 1
    assert all(0 < len(p) < 3500 for p in parts)
    assert "\n".join(parts) == text
    assert chunks("kort") == ["kort"]
    long_line = "y" * 8000
    assert all(len(p) <= 3500 for p in chunks(long_line))
    assert "".join(chunks(long_line)) == long_line


def test_every_encrypted_column_names_its_own_place() -> None:
    """The context a column binds its values to is its own ``table.column``."""
    found = 0
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, crypto.EncryptedText | crypto.EncryptedAddress
                          | crypto.EncryptedJSON):
                assert column.type.context == f"{table.name}.{column.name}"
                found += 1
    assert found >= 11
