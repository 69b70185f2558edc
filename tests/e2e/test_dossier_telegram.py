"""The nuisance file on Telegram, over the Bot API stand-in: a photo sent with the caption
``/bijlage`` is fetched (getFile, then the file's URL) and stored encrypted; a file too large
or of a type not accepted is refused in words; the export arrives as a document (sendDocument,
multipart) that pypdf reads back; a document that cannot be delivered is given up and its
bytes are purged from the outbox."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientSession, FormData
from pypdf import PdfReader
from sqlalchemy import func, select

from bot.domain.clock import ManualClock
from bot.persistence import orm
from tests.e2e.test_telegram_scenario import join, new_case
from tests.support.telegram_harness import TelegramHarness

COCO, LOTTE, BRAM = 1, 2, 3
LIMIT = 20_000


@pytest.fixture
async def tg(database_url: str, clock: ManualClock) -> AsyncIterator[TelegramHarness]:
    harness = TelegramHarness(database_url, clock, coordinator=COCO,
                              sections={"dossier": {"attachment_limit": LIMIT}})
    await harness.start()
    yield harness
    await harness.stop()


def jpeg(size: int) -> bytes:
    return b"\xff\xd8\xff\xe0" + (b"PIXELS" * (size // 6 + 1))[:size - 4]


async def test_attachments_in_and_the_file_out_as_a_document(tg: TelegramHarness) -> None:
    case = await new_case(tg)
    await join(tg, LOTTE, "Lotte", case, "verhuurder")
    await join(tg, BRAM, "Bram", case, "begeleider")
    tg.says(LOTTE, f"/bewijs {case} foto Kapotte voordeur na ruzie", "Lotte")
    await tg.until(lambda: tg.has(LOTTE, "evidence:1"))

    tg.sends_file(LOTTE, jpeg(5_000), f"/bijlage {case} evidence:1", "Lotte", kind="photo")
    await tg.until(lambda: tg.has(LOTTE, "Bijlage opgeslagen bij evidence:1"))
    tg.sends_file(LOTTE, jpeg(LIMIT + 10), f"/bijlage {case} evidence:1", "Lotte",
                  file_name="groot.jpg", mime_type="image/jpeg")
    await tg.until(lambda: tg.has(LOTTE, "te groot"))
    tg.sends_file(LOTTE, b"alleen tekst", f"/bijlage {case} evidence:1", "Lotte",
                  file_name="notitie.txt", mime_type="text/plain")
    await tg.until(lambda: tg.has(LOTTE, "neemt het dossier niet aan"))
    downloads = [c for c in tg.api._calls if c.method == "getFile"]
    assert len(downloads) == 2  # the large file was never fetched

    tg.says(LOTTE, f"/overlastdossier {case}", "Lotte")
    await tg.until(lambda: tg.api.documents_to(LOTTE))
    sent = tg.api.documents_to(LOTTE)[-1]
    assert sent.media is not None
    document = sent.media["document"]
    assert document["file_name"].startswith(f"overlastdossier-{case}-verhuurder-")
    assert document["file_name"].endswith(".pdf")
    assert f"Overlastdossier zaak {case}" in sent.text  # the caption
    calls = [c for c in tg.api._calls if c.method == "sendDocument"]
    assert calls[-1].content_type == "multipart/form-data"
    pdf = PdfReader(io.BytesIO(tg.api.file_bytes(document["file_id"])))
    content = "\n".join(page.extract_text() or "" for page in pdf.pages)
    assert "Kapotte voordeur" in content
    assert "photo.jpg" in content

    # Markdown too; and a document to someone who blocked the bot is given up and purged
    tg.api.block(BRAM)
    tg.says(BRAM, f"/overlastdossier {case} zorg md", "Bram")
    await tg.until(lambda: any(c.method == "sendDocument" and c.status == 403
                               for c in tg.api._calls))
    app = tg.app
    assert app is not None
    await app.delivery.deliver_due()
    async with app.new_uow() as uow:
        waiting = (await uow.session.execute(select(func.count(orm.OutboxDocument.id))))
        assert waiting.scalar_one() == 0
        failed = (await uow.session.execute(select(orm.OutboxRow.status).where(
            orm.OutboxRow.kind == "document").order_by(orm.OutboxRow.id))).scalars().all()
        assert failed == ["sent", "failed"]


async def test_the_stand_in_answers_send_document_as_telegram_does(
        tg: TelegramHarness) -> None:
    """sendDocument's errors: no document, an empty file, a caption too long, a file id
    unknown; getFile's: an unknown id."""
    url = f"{tg.api.base_url}{tg.api.token}"
    tg.api.add_user(LOTTE)
    async with ClientSession() as http:
        async def send(**fields: object) -> tuple[int, str]:
            form = FormData()
            for key, value in fields.items():
                if isinstance(value, bytes):
                    form.add_field(key, value, filename="a.pdf")
                else:
                    form.add_field(key, str(value))
            async with http.post(f"{url}/sendDocument", data=form) as response:
                return response.status, (await response.json())["description"] \
                    if response.status != 200 else "ok"

        assert await send(chat_id=LOTTE) == (400, "Bad Request: there is no document in "
                                                  "the request")
        assert await send(chat_id=LOTTE, document=b"") == (400, "Bad Request: file must be "
                                                               "non-empty")
        assert await send(chat_id=LOTTE, document=b"%PDF-1.4", caption="x" * 1025) == (
            400, "Bad Request: message caption is too long")
        assert await send(chat_id=LOTTE, document="nonsense") == (
            400, "Bad Request: wrong file identifier/HTTP URL specified")
        assert await send(chat_id=424242, document=b"%PDF-1.4") == (
            400, "Bad Request: chat not found")
        assert await send(chat_id=LOTTE, document=b"%PDF-1.4") == (200, "ok")
        async with http.post(f"{url}/getFile", data={"file_id": "nope"}) as response:
            assert response.status == 400
            assert (await response.json())["description"] == "Bad Request: invalid file_id"
