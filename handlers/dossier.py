"""Commands of the nuisance file: record evidence, attach a file to an entry, release an entry
for the judge's copy, export the file (PDF or Markdown) as a document."""

from __future__ import annotations

from bot import i18n
from bot.domain import errors
from bot.domain.evidence import (
    AttachFile,
    RecordEvidence,
    ReleaseForJudge,
    UnknownEvidenceKind,
    kind_words,
    looks_like_date,
    occurred_on,
    parse_kind,
    split_source,
)
from bot.services import dossier, evidence
from bot.services.cases import normalise_case_code
from handlers.commands import Request, UsageError, my_case_codes


async def _case_and_rest(req: Request, usage_key: str) -> tuple[str, str]:
    """The case a command names first (or my only case), and the rest of what was typed."""
    words = req.rest.split(None, 1)
    if words and normalise_case_code(words[0]) is not None:
        return words[0], words[1] if len(words) > 1 else ""
    codes = await my_case_codes(req)
    if len(codes) == 1:
        return codes[0], req.rest
    if not codes:
        raise errors.NotAllowed()
    raise UsageError(usage=req.t(usage_key))


async def cmd_evidence(req: Request, args: list[str]) -> None:
    """Put evidence in the file: /bewijs [zaak] <soort> [datum] <tekst> [bron: …]."""
    me = req.me
    code, rest = await _case_and_rest(req, "usage.evidence")
    words = rest.split(None, 1)
    if not words:
        raise UsageError(usage=req.t("usage.evidence"))
    kind = parse_kind(words[0])
    if kind is None:
        raise UnknownEvidenceKind(given=words[0], choices=kind_words(req.lang == "en"))
    rest = words[1] if len(words) > 1 else ""
    occurred = None
    first = rest.split(None, 1)
    if first and looks_like_date(first[0]):
        occurred = occurred_on(first[0], req.ctx.clock.now(), i18n.LOCAL)
        rest = first[1] if len(first) > 1 else ""
    described = split_source(rest)
    recorded = await evidence.record_evidence(RecordEvidence(
        person_id=me.id, case_code=code, kind=kind, text=described.text,
        occurred_at=occurred, source=described.source), req.uow, req.ctx)
    text = req.t("evidence.recorded", kind=req.t(f"dossier.kind.{kind.value}"),
                 ref=recorded.ref, code=recorded.case_code)
    if kind.value == "neighbour_statement":
        text += "\n" + req.t("evidence.anonymous" if recorded.anonymous
                             else "evidence.source_kept")
    req.reply(text + "\n" + req.t("evidence.attach_hint", ref=recorded.ref))


async def cmd_attach(req: Request, args: list[str]) -> None:
    """Attach the file sent with this message to an entry: /bijlage [zaak] <ref>."""
    me = req.me
    code, rest = await _case_and_rest(req, "usage.attach")
    ref = rest.split(None, 1)[0] if rest.split() else ""
    if not ref:
        raise UsageError(usage=req.t("usage.attach"))
    if not req.incoming.attachments:
        raise evidence.NoAttachment()
    sent = req.incoming.attachments[0]
    limit = req.ctx.dossier.attachment_limit
    if sent.data is None or sent.size > limit:
        raise evidence.AttachmentTooLarge(size=evidence.megabytes(sent.size, up=True),
                                          limit=evidence.megabytes(limit))
    attached = await evidence.attach_file(AttachFile(
        person_id=me.id, case_code=code, ref=ref, filename=sent.filename, data=sent.data,
        mime=sent.mime), req.uow, req.ctx)
    req.reply(req.t("attachment.added", ref=attached.ref, code=attached.case_code,
                    size=evidence.megabytes(attached.size), mime=attached.mime))


async def cmd_release_judge(req: Request, args: list[str]) -> None:
    """Release an entry for the judge's copy (care team): /vrijgevenrechter [zaak] <ref>."""
    me = req.me
    code, rest = await _case_and_rest(req, "usage.release_judge")
    ref = rest.split(None, 1)[0] if rest.split() else ""
    if not ref:
        raise UsageError(usage=req.t("usage.release_judge"))
    released = await evidence.release_for_judge(ReleaseForJudge(
        person_id=me.id, case_code=code, ref=ref), req.uow, req.ctx)
    req.reply(req.t("release_judge.already" if released.already else "release_judge.done",
                    ref=released.ref, code=released.case_code))


async def cmd_export(req: Request, args: list[str]) -> None:
    """Export the file: /overlastdossier [zaak] [verhuurder|zorg|rechter] [pdf|md]."""
    me = req.me
    code, rest = await _case_and_rest(req, "usage.export")
    copy: dossier.Copy | None = None
    fmt = dossier.Format.PDF
    for word in rest.split():
        found_copy, found_format = dossier.parse_copy(word), dossier.parse_format(word)
        if found_copy is not None:
            copy = found_copy
        elif found_format is not None:
            fmt = found_format
        else:
            raise UsageError(usage=req.t("usage.export"))
    exported = await dossier.export_dossier(dossier.ExportDossier(
        person_id=me.id, case_code=code, copy=copy, format=fmt,
        transport=req.incoming.transport, chat_id=req.incoming.chat_id), req.uow, req.ctx)
    req.reply(req.t("dossier.exported", code=exported.case_code,
                    copy=req.t(f"dossier.copy.{exported.copy.value}"),
                    format=exported.format.value.upper(), count=exported.shown,
                    redacted=exported.redacted))
