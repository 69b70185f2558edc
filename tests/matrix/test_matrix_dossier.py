"""The nuisance file on a real Synapse: a photo sent with ``/bijlage`` as its caption is
fetched from the media repository (and decrypted, in an encrypted room); the export arrives as
an ``m.file`` whose content is in the media repository, encrypted with its key in the event's
``file`` in an encrypted room (nio's ``decrypt_attachment`` opens it), plain with a ``url`` in
a plain one."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import nio
import pytest
from nio.crypto import decrypt_attachment
from pypdf import PdfReader

from tests.matrix.test_matrix_scenario import direct_with_bot, enrol
from tests.support.matrix_harness import CASE, MatrixBot, Person, until
from tests.support.synapse import Synapse


@pytest.fixture
async def people(synapse: Synapse, tmp_path: Path) -> AsyncIterator[dict[str, Person]]:
    crowd = {name: Person(synapse, tmp_path, name) for name in ("coco", "lotte")}
    for person in crowd.values():
        await person.start()
    yield crowd
    for person in crowd.values():
        await person.stop()


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_the_file_arrives_as_a_document(synapse: Synapse, tmp_path: Path,
                                              people: dict[str, Person],
                                              encrypted: bool) -> None:
    coco, lotte = people["coco"], people["lotte"]
    bot = MatrixBot(synapse, tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'k.db'}",
                    coordinator=coco.user_id)
    await bot.start()
    try:
        coco_room = await direct_with_bot(coco, bot, encrypted=encrypted)
        await coco.say(coco_room, "/nieuwezaak")
        match = CASE.search((await coco.expect(bot.user_id, CASE.pattern)).body)
        assert match is not None
        case = match[0]
        room = await enrol(coco, coco_room, lotte, bot, case, "verhuurder",
                           encrypted=encrypted)
        await lotte.say(room, f"/bewijs {case} telefoon Buurman belde om 23:40 over bassen")
        await lotte.expect(bot.user_id, "evidence:1", room_id=room)
        # a photo with the command as its caption: fetched (and decrypted) by the bot
        photo = b"\xff\xd8\xff\xe0" + b"PIXELS" * 500
        upload, keys = await lotte.client.upload(
            io.BytesIO(photo), content_type="image/jpeg", filename="deur.jpg",
            encrypt=encrypted, filesize=len(photo))
        assert isinstance(upload, nio.UploadResponse)
        image: dict[str, object] = {
            "msgtype": "m.image", "body": f"/bijlage {case} evidence:1", "filename": "deur.jpg",
            "info": {"mimetype": "image/jpeg", "size": len(photo)}}
        if encrypted:
            image["file"] = {"url": upload.content_uri, **(keys or {})}
        else:
            image["url"] = upload.content_uri
        await lotte.client.room_send(room, "m.room.message", image,
                                     ignore_unverified_devices=True)
        await lotte.expect(bot.user_id, "Bijlage opgeslagen bij evidence:1", room_id=room)
        await lotte.say(room, f"/overlastdossier {case}")
        sent = await until(lambda: next((r for r in lotte.from_bot(bot.user_id, room)
                                         if r.content.get("msgtype") == "m.file"), None),
                           what="the document")
        content = sent.content
        assert content["filename"].startswith(f"overlastdossier-{case}-verhuurder-")
        assert content["info"]["mimetype"] == "application/pdf"
        assert f"Overlastdossier zaak {case}" in content["body"]  # the caption
        if encrypted:
            assert "url" not in content
            file = content["file"]
            answer = await lotte.client.download(mxc=file["url"])
            assert isinstance(answer, nio.DownloadResponse)
            assert b"%PDF" not in answer.body[:8]  # the media repository holds cipher text
            data = decrypt_attachment(answer.body, file["key"]["k"],
                                      file["hashes"]["sha256"], file["iv"])
        else:
            answer = await lotte.client.download(mxc=content["url"])
            assert isinstance(answer, nio.DownloadResponse)
            data = answer.body
        text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)
        assert "Buurman belde om 23:40" in text
        assert "deur.jpg" in text
    finally:
        await bot.stop()
