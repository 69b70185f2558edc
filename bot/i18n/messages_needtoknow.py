"""Sentences of need-to-know rendering: signals per role, notes and their audience, the
tenant's own reports, summaries, digests and the household pattern."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str | tuple[str, str]]] = {
    "signal.new_facts": {
        "nl": "Nieuw signaal #{number} in zaak {code}: {kind}, van {poster} op {when}.",
        "en": "New signal #{number} in case {code}: {kind}, from {poster} on {when}.",
    },
    "signal.ack_by": {
        "nl": "Bevestig vóór {due} met /ok {number}.",
        "en": "Acknowledge by {due} with /ack {number}.",
    },
    "signal.note_redacted": {
        "nl": "\nEr is een toelichting, alleen voor wie die mag lezen.",
        "en": "\nThere is a note, only for those who may read it.",
    },
    "signal.complainant": {"nl": "\nKlager: {name}", "en": "\nComplainant: {name}"},
    "signal.complainant_redacted": {
        "nl": "\nDe klager is bekend bij de verhuurder.",
        "en": "\nThe complainant is known to the landlord.",
    },
    "signal.neutral": {
        "nl": "Er is een nieuw bericht in zaak {code}. Bekijk het met /bekijk {number}.",
        "en": "There is a new message in case {code}. View it with /view {number}.",
    },
    "signal.shared": {
        "nl": "Nieuw signaal #{number} in zaak {code}: {kind}, van {poster} op {when}. "
        "Details krijgen betrokkenen persoonlijk.",
        "en": "New signal #{number} in case {code}: {kind}, from {poster} on {when}. "
        "Those involved get the details in private.",
    },
    "signal.note_follows": {
        "nl": "Toelichting bij signaal #{number} ({kind}) in zaak {code}:\n{note}",
        "en": "Note on signal #{number} ({kind}) in case {code}:\n{note}",
    },
    "button.view": {"nl": "Bekijken", "en": "View"},
    "button.note_send": {"nl": "Versturen", "en": "Send"},
    "button.note_team": {"nl": "Alleen zorgteam", "en": "Care team only"},
    "button.note_withhold": {"nl": "Niet versturen", "en": "Don't send"},
    "note.preview": {
        "nl": "Je toelichting is nog niet verstuurd. Die gaat naar: {readers}. Versturen?",
        "en": "Your note has not been sent yet. It goes to: {readers}. Send it?",
    },
    "note.preview_nobody": {
        "nl": "Je toelichting is nog niet verstuurd: er is nu niemand die haar mag lezen. "
        "Ze blijft bij het signaal voor wie later komt.",
        "en": "Your note has not been sent: nobody may read it yet. It stays with the signal "
        "for whoever joins later.",
    },
    "note.sent": {
        "nl": "Je toelichting bij signaal #{number} is verstuurd aan: {readers}.",
        "en": "Your note on signal #{number} was sent to: {readers}.",
    },
    "note.withheld": {
        "nl": "Je toelichting bij signaal #{number} wordt niet verstuurd.",
        "en": "Your note on signal #{number} will not be sent.",
    },
    "note.nobody": {"nl": "niemand", "en": "nobody"},
    "usage.note": {
        "nl": "/toelichting <nr> verstuur|zorgteam|niet|<rollen>",
        "en": "/note <no> send|team|no|<roles>",
    },
    "error.note_not_draft": {
        "nl": "De toelichting bij signaal #{number} is al verstuurd of tegengehouden.",
        "en": "The note on signal #{number} was already sent or withheld.",
    },
    "view.header": {
        "nl": "Signaal #{number} in zaak {code}: {kind}, van {poster} op {when} — {state}.",
        "en": "Signal #{number} in case {code}: {kind}, from {poster} on {when} — {state}.",
    },
    "usage.view": {"nl": "/bekijk <nr>", "en": "/view <no>"},
    # --- release to the tenant and the tenant's reports ----------------------------------
    "usage.release": {"nl": "/vrijgeven <nr>", "en": "/release <no>"},
    "release.done": {
        "nl": "Signaal #{number} is besproken met de deelnemer en voor de deelnemer zichtbaar "
        "(alleen de feiten).",
        "en": "Signal #{number} has been discussed with the tenant and is now visible to them "
        "(the facts only).",
    },
    "release.notice": {
        "nl": "Er is nieuws in je zaak {code}. Bekijk het met /status {code}.",
        "en": "There is news in your case {code}. See it with /status {code}.",
    },
    "error.not_a_complaint": {
        "nl": "Signaal #{number} is een melding van de deelnemer zelf; die hoeft niet "
        "vrijgegeven te worden.",
        "en": "Signal #{number} is the tenant's own report; it needs no release.",
    },
    "report.update": {
        "nl": "Er is nieuws over je melding in zaak {code}. Bekijk het met /status {code}.",
        "en": "There is news about your report in case {code}. See it with /status {code}.",
    },
    "usage.resolve": {"nl": "/afgehandeld <nr>", "en": "/resolved <no>"},
    "report.resolved": {
        "nl": "Melding #{number} is afgehandeld; de deelnemer krijgt een neutraal bericht.",
        "en": "Report #{number} is resolved; the tenant gets a neutral notice.",
    },
    "report.status.received": {"nl": "ontvangen", "en": "received"},
    "report.status.in_progress": {"nl": "in behandeling", "en": "being handled"},
    "report.status.done": {"nl": "afgehandeld", "en": "resolved"},
    "report.choose_kind": {
        "nl": "Waar gaat je melding over?",
        "en": "What is your report about?",
    },
    "report.kind.harassed_tenant": {
        "nl": "Ik word lastiggevallen door buren",
        "en": "Neighbours are harassing me",
    },
    "report.kind.unjust_complaint": {
        "nl": "Er is onterecht over mij geklaagd",
        "en": "Someone complained about me unjustly",
    },
    "report.ask_what": {
        "nl": "Wat is er gebeurd? Schrijf het in je eigen woorden. (Stoppen: /annuleer)",
        "en": "What happened? Write it in your own words. (Stop: /cancel)",
    },
    "report.ask_when": {
        "nl": "Wanneer was het? Bijvoorbeeld: gisteravond rond 23:00.",
        "en": "When was it? For example: last night around 23:00.",
    },
    "report.ask_where": {
        "nl": "Waar was het? Bijvoorbeeld: in het trappenhuis.",
        "en": "Where was it? For example: in the stairwell.",
    },
    "report.preview": {
        "nl": "Je melding ({kind}) gaat naar: {readers}. Zij lezen wat je schreef. Een melding "
        "over buren telt nooit tegen jou.\nVersturen?",
        "en": "Your report ({kind}) goes to: {readers}. They read what you wrote. A report "
        "about neighbours never counts against you.\nSend it?",
    },
    "report.text": {
        "nl": "Wat: {what}\nWanneer: {when}\nWaar: {where}",
        "en": "What: {what}\nWhen: {when}\nWhere: {where}",
    },
    "button.report_send": {"nl": "Versturen", "en": "Send"},
    "button.report_coach_only": {"nl": "Alleen naar mijn begeleider", "en": "Only to my coach"},
    "button.cancel": {"nl": "Annuleren", "en": "Cancel"},
    "report.sent": {
        "nl": "Je melding #{number} is verstuurd. Je hoort het als er nieuws is; de stand zie "
        "je met /status {code}.",
        "en": "Your report #{number} has been sent. You will hear when there is news; see "
        "where it stands with /status {code}.",
    },
    "report.cancelled": {"nl": "Je melding is niet verstuurd.", "en": "Your report was not sent."},
    "report.only_tenant": {
        "nl": "Met /melden doet de deelnemer een melding. Partners geven signalen door met "
        "/signaal.",
        "en": "/report is for the tenant's own reports. Partners pass on signals with /signal.",
    },
    "report.too_long": {
        "nl": "Dat is te lang (ten hoogste {limit} tekens). Probeer het korter.",
        "en": "That is too long (at most {limit} characters). Please make it shorter.",
    },
    "conversation.none": {
        "nl": "Er loopt geen gesprek om te annuleren.",
        "en": "There is no conversation to cancel.",
    },
    "conversation.cancelled": {"nl": "Het gesprek is gestopt.",
                               "en": "The conversation has stopped."},
    "conversation.bad_answer": {
        "nl": "Dat antwoord past hier niet. Probeer het opnieuw, of stop met /annuleer.",
        "en": "That answer does not fit here. Try again, or stop with /cancel.",
    },
    "conversation.empty": {
        "nl": "Schrijf je antwoord in een paar woorden, of stop met /annuleer.",
        "en": "Write your answer in a few words, or stop with /cancel.",
    },
    "conversation.pick_an_option": {
        "nl": "Kies een van de {count} mogelijkheden: tik op een knop of typ het nummer. "
        "Stoppen: /annuleer.",
        "en": "Choose one of the {count} options: tap a button or type its number. "
        "Stop: /cancel.",
    },
    "conversation.choice_gone": {
        "nl": "Die vraag staat niet meer open. Begin opnieuw als je wilt.",
        "en": "That question is no longer open. Start again if you like.",
    },
    "conversation.which_case": {
        "nl": "Over welke zaak gaat het?",
        "en": "Which case is it about?",
    },
    "conversation.in_case": {"nl": "(Zaak {code}) ", "en": "(Case {code}) "},
    # --- summaries and digests ------------------------------------------------------------
    "summary.header": {
        "nl": "Samenvatting zaak {code} (voor {roles}), {when}:",
        "en": "Summary of case {code} (for {roles}), {when}:",
    },
    "summary.counts": {
        "nl": "Signalen: {total} ({open} wachten op opvolging, {lapsed} over de termijn).",
        "en": "Signals: {total} ({open} waiting for follow-up, {lapsed} overdue).",
    },
    "summary.windows": {"nl": "Open termijnen:", "en": "Open windows:"},
    "summary.recent": {"nl": "Recente signalen:", "en": "Recent signals:"},
    "meeting.header": {
        "nl": "Overzicht voor het casusoverleg over zaak {code} ({when}) — alleen feiten die "
        "alle deelnemers aan het overleg mogen zien:",
        "en": "Overview for the case meeting on case {code} ({when}) — only facts every "
        "participant may see:",
    },
    "meeting.kinds": {"nl": "Soorten signalen: {kinds}.", "en": "Kinds of signal: {kinds}."},
    "meeting.none": {
        "nl": "Geen signalen die iedereen mag zien.",
        "en": "No signals everyone may see.",
    },
    "digest.daily_header": {
        "nl": "Dagoverzicht {when}:",
        "en": "Daily digest {when}:",
    },
    "digest.due_today": {"nl": "Vandaag af:", "en": "Due today:"},
    "digest.overdue": {"nl": "Over de termijn:", "en": "Overdue:"},
    "digest.new_signals": {"nl": "Nieuwe signalen:", "en": "New signals:"},
    "digest.weekly_header": {
        "nl": "Weekoverzicht {when}: waar je signalen staan.",
        "en": "Weekly digest {when}: where your signals stand.",
    },
    "digest.set": {
        "nl": "Je dagoverzicht komt voortaan om {at}.",
        "en": "Your daily digest now comes at {at}.",
    },
    "digest.show": {
        "nl": "Je dagoverzicht komt om {at}. Wijzigen: /overzicht 07:45",
        "en": "Your daily digest comes at {at}. Change: /digest 07:45",
    },
    "digest.off": {
        "nl": "Je krijgt geen dagoverzicht meer.",
        "en": "You no longer receive a daily digest.",
    },
    "error.bad_time": {
        "nl": "Schrijf een tijd als 08:00, of 'uit'.",
        "en": "Write a time like 08:00, or 'off'.",
    },
    "pattern.proposal": {
        "nl": "Patroon in zaak {code}: binnen {period} kwamen signalen van verschillende soorten "
        "binnen ({kinds}). Overweeg een casusoverleg; /overleg {code} geeft een overzicht.",
        "en": "Pattern in case {code}: within {period} signals of different kinds came in "
        "({kinds}). Consider a case meeting; /meeting {code} gives an overview.",
    },
    "help.summary": {
        "nl": "/samenvatting <zaak> — samenvatting voor jouw rol",
        "en": "/summary <case> — summary for your role",
    },
    "help.meeting": {
        "nl": "/overleg <zaak> — overzicht voor een casusoverleg",
        "en": "/meeting <case> — overview for a case meeting",
    },
    "help.view": {"nl": "/bekijk <nr> — een signaal bekijken", "en": "/view <no> — view a signal"},
    "help.note": {
        "nl": "/toelichting <nr> verstuur|zorgteam|niet — je toelichting",
        "en": "/note <no> send|team|no — your note",
    },
    "help.release": {
        "nl": "/vrijgeven <nr>, /afgehandeld <nr> — voor de deelnemer",
        "en": "/release <no>, /resolved <no> — for the tenant",
    },
    "help.report": {
        "nl": "/melden — een melding doen (lastiggevallen, onterechte klacht)",
        "en": "/report — make a report (harassed, unjust complaint)",
    },
    "help.digest": {
        "nl": "/overzicht [08:00|uit] — je dagoverzicht",
        "en": "/digest [08:00|off] — your daily digest",
    },
}

MESSAGES.update(
    {
        "dossier.header": {  # plural forms: (singular, plural), chosen by count (i18n.tn)
            "nl": ("Dossier van zaak {code} (voor {roles}), {count} gebeurtenis:",
                   "Dossier van zaak {code} (voor {roles}), {count} gebeurtenissen:"),
            "en": ("File of case {code} (for {roles}), {count} event:",
                   "File of case {code} (for {roles}), {count} events:"),
        },
        "dossier.line": {"nl": "{when} — {what}", "en": "{when} — {what}"},
        "dossier.reason": {"nl": " (reden: {reason})", "en": " (reason: {reason})"},
        "help.dossier": {
            "nl": "/dossier <zaak> — de tijdlijn van de zaak",
            "en": "/file <case> — the case's timeline",
        },
        "timeline.case_opened": {"nl": "zaak geopend", "en": "case opened"},
        "timeline.person_invited": {"nl": "uitnodiging gemaakt", "en": "invitation made"},
        "timeline.member_joined": {"nl": "{actor} doet mee", "en": "{actor} joined"},
        "timeline.signal_posted": {
            "nl": "signaal #{number} ({kind}) van {actor}",
            "en": "signal #{number} ({kind}) from {actor}",
        },
        "timeline.signal_acknowledged": {
            "nl": "signaal #{number} bevestigd door {actor}",
            "en": "signal #{number} acknowledged by {actor}",
        },
        "timeline.reminder_sent": {
            "nl": "herinnering verstuurd (T{window})",
            "en": "reminder sent (T{window})",
        },
        "timeline.window_lapsed": {
            "nl": "termijn T{window} verlopen",
            "en": "window T{window} lapsed",
        },
        "timeline.window_opened": {
            "nl": "termijn T{window} gestart: {norm}",
            "en": "window T{window} started: {norm}",
        },
        "timeline.window_met": {
            "nl": "termijn T{window} afgerond door {actor}",
            "en": "window T{window} completed by {actor}",
        },
        "timeline.window_paused": {
            "nl": "termijn T{window} gepauzeerd door {actor}",
            "en": "window T{window} paused by {actor}",
        },
        "timeline.window_resumed": {
            "nl": "termijn T{window} hervat door {actor}",
            "en": "window T{window} resumed by {actor}",
        },
        "timeline.window_extended": {
            "nl": "termijn T{window} verlengd door {actor}",
            "en": "window T{window} extended by {actor}",
        },
        "timeline.window_moved": {
            "nl": "termijn T{window} verschoven met de norm",
            "en": "window T{window} moved with the norm",
        },
        "timeline.escalated": {
            "nl": "termijn T{window} geëscaleerd",
            "en": "window T{window} escalated",
        },
        "timeline.absence_registered": {"nl": "afwezigheid gemeld", "en": "absence registered"},
        "timeline.note_sent": {
            "nl": "toelichting bij signaal #{number} verstuurd",
            "en": "note on signal #{number} sent",
        },
        "timeline.released_to_tenant": {
            "nl": "signaal #{number} besproken met de deelnemer ({actor})",
            "en": "signal #{number} discussed with the tenant ({actor})",
        },
        "timeline.report_status": {
            "nl": "melding #{number}: {status}",
            "en": "report #{number}: {status}",
        },
        "timeline.pattern_proposed": {
            "nl": "patroon gezien: casusoverleg voorgesteld",
            "en": "pattern seen: case meeting proposed",
        },
        "timeline.chat_linked": {
            "nl": "groep gekoppeld door {actor}",
            "en": "group linked by {actor}",
        },
        "timeline.chat_unlinked": {
            "nl": "groep ontkoppeld door {actor}",
            "en": "group unlinked by {actor}",
        },
        "timeline.case_closed": {"nl": "zaak gesloten", "en": "case closed"},
    }
)

MESSAGES.update(
    {
        "menu.toelichting": {
            "nl": "Je toelichting versturen of tegenhouden",
            "en": "Send or withhold your note",
        },
        "menu.bekijk": {"nl": "Een signaal bekijken", "en": "View a signal"},
        "menu.samenvatting": {"nl": "Samenvatting van een zaak", "en": "Summary of a case"},
        "menu.overleg": {
            "nl": "Overzicht voor een casusoverleg",
            "en": "Overview for a case meeting",
        },
        "menu.dossier": {"nl": "De tijdlijn van een zaak", "en": "The timeline of a case"},
        "menu.overzicht": {"nl": "Tijd van je dagoverzicht", "en": "Time of your daily digest"},
        "menu.vrijgeven": {
            "nl": "Een besproken klacht tonen aan de deelnemer",
            "en": "Show a discussed complaint to the tenant",
        },
        "menu.afgehandeld": {
            "nl": "Een melding van de deelnemer afhandelen",
            "en": "Resolve a report of the tenant",
        },
        "menu.melden": {"nl": "Een melding doen", "en": "Make a report"},
        "menu.annuleer": {"nl": "Een gesprek stoppen", "en": "Stop a conversation"},
    }
)

MESSAGES.update(
    {
        "erase.explain": {
            "nl": "Hiermee vergeet KorteLijn je: je naam, je chat, je rollen en je instellingen "
            "worden gewist en je krijgt geen berichten meer. Wat je in een zaak hebt gemeld, "
            "blijft bij die zaak (zonder je naam) tot de zaak wordt opgeschoond. Weet je het "
            "zeker?",
            "en": "This makes KorteLijn forget you: your name, your chat, your roles and your "
            "settings are erased and you get no more messages. What you reported in a case "
            "stays with that case (without your name) until the case is purged. Are you sure?",
        },
        "erase.button": {"nl": "Ja, vergeet mij", "en": "Yes, forget me"},
        "erase.done": {
            "nl": "Je gegevens zijn gewist. Wil je later weer meedoen, vraag dan een nieuwe "
            "uitnodiging.",
            "en": "Your data has been erased. To take part again later, ask for a new invitation.",
        },
        "help.forget": {
            "nl": "/vergeetmij — laat KorteLijn je vergeten",
            "en": "/forgetme — have KorteLijn forget you",
        },
        "menu.vergeetmij": {"nl": "Laat KorteLijn je vergeten", "en": "Have KorteLijn forget you"},
        "timeline.person_erased": {
            "nl": "een deelnemer aan de zaak is gewist op eigen verzoek",
            "en": "someone in the case was erased at their request",
        },
    }
)
