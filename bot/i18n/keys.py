"""Keys that the code composes at run time (``f"norm.{norm}"``) or passes through a helper
before rendering: listed here so that ``pybabel extract`` finds them and ``pybabel update``
never drops their sentences. tests/unit/test_catalogue.py fails when a catalogue holds a
key that neither the code nor this list names, and checks each family against its enum.
"""

from __future__ import annotations


def N_(key: str) -> str:  # noqa: N802 (the gettext convention for a no-op marker)
    """Mark a key for extraction; it is rendered elsewhere."""
    return key


DYNAMIC_KEYS = (
    # bot/services/exports.py: what was read, why, by which role (from the access log's codes)
    N_("accesslog.purpose.case_meeting_overview"), N_("accesslog.purpose.daily_digest"),
    N_("accesslog.purpose.notification"), N_("accesslog.purpose.summary_command"),
    N_("accesslog.purpose.view"), N_("accesslog.purpose.weekly_digest"),
    N_("accesslog.role.coordinator"), N_("accesslog.what.access_log"),
    N_("accesslog.what.delivery"), N_("accesslog.what.digest"), N_("accesslog.what.dossier"),
    N_("accesslog.what.meeting"), N_("accesslog.what.personal_data"), N_("accesslog.what.signal"),
    N_("accesslog.what.status"), N_("accesslog.what.summary"),
    # handlers/clocks.py: how a window changed (pause, resume, extend)
    N_("change.extended"), N_("change.paused"), N_("change.resumed"),
    # bot/outbox.py: why a delivery failed (the transport's failure kind)
    N_("delivery.reason.blocked"), N_("delivery.reason.chat_not_found"),
    N_("delivery.reason.gave_up"), N_("delivery.reason.removed"),
    # bot/services/summaries.py: the digest's sections
    N_("digest.due_today"), N_("digest.new_signals"), N_("digest.overdue"),
    # i18n.kind_name: each SignalKind
    N_("kind.care_concern"), N_("kind.harassed_tenant"), N_("kind.mailbox_full"),
    N_("kind.missed_rent"), N_("kind.noise"), N_("kind.other"), N_("kind.police_incident"),
    N_("kind.pollution"), N_("kind.public_space"), N_("kind.smell"),
    N_("kind.threatened_nuisance"), N_("kind.unjust_complaint"), N_("kind.visitors"),
    # handlers/menu.py: the command menu, one per Dutch command word
    N_("menu.afgehandeld"), N_("menu.afwezig"), N_("menu.annuleer"), N_("menu.bekijk"),
    N_("menu.dossier"), N_("menu.gedaan"), N_("menu.help"), N_("menu.hervat"), N_("menu.koppel"),
    N_("menu.melden"), N_("menu.mijngegevens"), N_("menu.nieuwezaak"), N_("menu.ok"),
    N_("menu.ontkoppel"), N_("menu.overleg"), N_("menu.overzicht"), N_("menu.pauzeer"),
    N_("menu.samenvatting"), N_("menu.signaal"), N_("menu.sluitzaak"), N_("menu.start"),
    N_("menu.status"), N_("menu.stil"), N_("menu.taal"), N_("menu.termijn"), N_("menu.termijnen"),
    N_("menu.terug"), N_("menu.toegangslog"), N_("menu.toelichting"), N_("menu.uitnodigen"),
    N_("menu.vergeetmij"), N_("menu.verleng"), N_("menu.vrijgeven"), N_("menu.zaken"),
    # bot/services/exports.py: a person's language, named
    N_("mydata.language.en"), N_("mydata.language.nl"),
    # each Norm, named
    N_("norm.N1"), N_("norm.N10"), N_("norm.N10min"), N_("norm.N12"), N_("norm.N2"), N_("norm.N3"),
    N_("norm.N5"), N_("norm.N6"), N_("norm.N7"),
    # the tenant's report: its kinds (handlers/needtoknow.py) and statuses
    N_("report.kind.harassed_tenant"), N_("report.kind.unjust_complaint"),
    N_("report.status.done"), N_("report.status.in_progress"), N_("report.status.received"),
    # i18n.role_name: each Role
    N_("role.coach"), N_("role.landlord"), N_("role.mediator"), N_("role.monitor"),
    N_("role.municipality"), N_("role.police"), N_("role.team_lead"), N_("role.tenant"),
    # bot/services/summaries.py: each timeline Event in the dossier
    N_("timeline.absence_registered"), N_("timeline.case_closed"), N_("timeline.case_opened"),
    N_("timeline.chat_linked"), N_("timeline.chat_unlinked"), N_("timeline.escalated"),
    N_("timeline.member_joined"), N_("timeline.note_sent"), N_("timeline.pattern_proposed"),
    N_("timeline.person_erased"), N_("timeline.person_invited"), N_("timeline.released_to_tenant"),
    N_("timeline.reminder_sent"), N_("timeline.report_status"), N_("timeline.signal_acknowledged"),
    N_("timeline.signal_posted"), N_("timeline.window_extended"), N_("timeline.window_lapsed"),
    N_("timeline.window_met"), N_("timeline.window_moved"), N_("timeline.window_opened"),
    N_("timeline.window_paused"), N_("timeline.window_resumed"),
    # handlers: the usage line passed to a shared argument parser
    N_("usage.note"), N_("usage.release"), N_("usage.resolve"), N_("usage.status"),
    N_("usage.view"),
    # bot/services/windows.py and handlers/clocks.py: picked by the window's situation
    N_("window.changed_notice"), N_("window.escalation_coordinator"),
    N_("window.escalation_team_lead"), N_("window.lapsed_responsible"),
    N_("window.lapsed_waiting"), N_("window.met_notice"), N_("window.reminder"),
    N_("window.state.cancelled"), N_("window.state.lapsed"), N_("window.state.met"),
    N_("window.state.open"), N_("window.state.paused"),
    # bot/services/tenant_report.py: the report's conversation (its states' prompts, picks
    # and refusals) and the runner's own answer to a cancel
    N_("report.choose_kind"), N_("report.ask_what"), N_("report.ask_when"),
    N_("report.ask_where"), N_("report.preview"), N_("report.only_tenant"),
    N_("report.cancelled"), N_("conversation.cancelled"), N_("button.report_send"),
    N_("button.report_coach_only"), N_("button.cancel"),
    # handlers/commands.py: the note's three choices, a table of (label, value, command)
    N_("button.note_send"), N_("button.note_team"), N_("button.note_withhold"),
    N_("command.note_send"), N_("command.note_team"), N_("command.note_withhold"),
    # handlers/commands.py: an invitation's link, per transport (f"invite.link.{transport}")
    N_("invite.link.matrix"),
)
