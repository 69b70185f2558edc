"""Every sentence the bot says, Dutch first, English second, as hand-written dicts: the source
of the gettext catalogues until ``python -m tools.dicts_to_po`` converts them to
``bot/i18n/locale/*/LC_MESSAGES/kortelijn.po`` and deletes this module and its ``messages_*.py``
siblings. Nothing imports them at run time; the bot reads the compiled catalogues.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str | tuple[str, str]]] = {
    # --- access -------------------------------------------------------------------------
    "error.not_invited": {
        "nl": "Je hebt nog geen toegang. Vraag de coördinator van je team om een "
              "uitnodigingscode en stuur dan: /start <code>",
        "en": "You have no access yet. Ask your team's coordinator for an invitation code, "
              "then send: /start <code>",
    },
    "error.invalid_invitation": {
        "nl": "Deze uitnodigingscode is onbekend, al gebruikt of verlopen. Vraag de coördinator "
              "om een nieuwe.",
        "en": "This invitation code is unknown, already used or expired. Ask the coordinator "
              "for a new one.",
    },
    "error.unknown_case": {
        "nl": "Je hebt geen zaak met code {code}. Je zaken zie je met /zaken.",
        "en": "You have no case with code {code}. See your cases with /cases.",
    },
    "error.not_allowed": {
        "nl": "Dat kan niet in jouw rol. Stuur /help voor wat je wel kunt doen.",
        "en": "Your role does not allow that. Send /help for what you can do.",
    },
    "error.coordinator_only": {
        "nl": "Alleen de coördinator kan dat.",
        "en": "Only the coordinator can do that.",
    },
    "error.unknown_role": {
        "nl": "Onbekende rol '{given}'. Kies uit: {choices}.",
        "en": "Unknown role '{given}'. Choose from: {choices}.",
    },
    "error.unknown_kind": {
        "nl": "Onbekend soort signaal '{given}'. Kies uit: {choices}.",
        "en": "Unknown kind of signal '{given}'. Choose from: {choices}.",
    },
    "error.kind_not_allowed": {
        "nl": "Als {role} kun je geen signaal '{kind}' doorgeven. Wel: {choices}.",
        "en": "As {role} you cannot pass on a signal '{kind}'. You can: {choices}.",
    },
    "error.unknown_signal": {
        "nl": "Er is geen signaal #{number} in jouw zaken. Je zaken zie je met /zaken.",
        "en": "There is no signal #{number} in your cases. See your cases with /cases.",
    },
    "error.already_acknowledged": {
        "nl": "Signaal #{number} was al bevestigd door {who} ({when}).",
        "en": "Signal #{number} was already acknowledged by {who} ({when}).",
    },
    "error.note_too_long": {
        "nl": "De toelichting is te lang: ten hoogste {limit} tekens. Er is niets vastgelegd.",
        "en": "The note is too long: at most {limit} characters. Nothing was recorded.",
    },
    "error.unknown_command": {
        "nl": "Het commando {command} ken ik niet. Stuur /help voor wat je kunt doen.",
        "en": "I don't know the command {command}. Send /help for what you can do.",
    },
    "error.not_a_command": {
        "nl": "Stuur een commando, bijvoorbeeld /help.",
        "en": "Send a command, for example /help.",
    },
    "error.not_a_number": {
        "nl": "'{given}' is geen nummer; typ het nummer in cijfers. Gebruik: {usage}",
        "en": "'{given}' is not a number; type the number in digits. Usage: {usage}",
    },
    "error.number_out_of_range": {
        "nl": "'{given}' is geen nummer dat bestaat: nummers lopen van 1 tot en met {largest}.",
        "en": "'{given}' is not a number that exists: numbers run from 1 to {largest}.",
    },
    "error.span_out_of_range": {
        "nl": "'{given}' kan niet: een duur is langer dan nul en ten hoogste {days} dagen "
              "(bijvoorbeeld 2d, 1wd, 2w of 3mo).",
        "en": "'{given}' is not possible: a length of time is more than zero and at most "
              "{days} days (e.g. 2d, 1wd, 2w or 3mo).",
    },
    "error.moment_out_of_range": {
        "nl": "'{given}' kan niet: kies een moment na vandaag en ten hoogste {days} dagen "
              "vooruit, bijvoorbeeld {examples}.",
        "en": "'{given}' is not possible: choose a moment after today and at most {days} "
              "days ahead, e.g. {examples}.",
    },
    "error.too_long": {
        "nl": "Dat is te lang: ten hoogste {limit} tekens. Er is niets vastgelegd.",
        "en": "That is too long: at most {limit} characters. Nothing was recorded.",
    },
    "error.usage": {
        "nl": "Gebruik: {usage}",
        "en": "Usage: {usage}",
    },
    "error.unknown_language": {
        "nl": "Kies een taal: /taal nl of /taal en.",
        "en": "Choose a language: /language nl or /language en.",
    },
    "error.generic": {
        "nl": "Dat kan nu niet. Stuur /help voor wat je kunt doen.",
        "en": "That cannot be done now. Send /help for what you can do.",
    },
    "error.internal": {
        "nl": "Er ging iets mis; je bericht is niet verwerkt en er is niets vastgelegd. "
              "Probeer het zo nog eens.",
        "en": "Something went wrong; your message was not processed and nothing was recorded. "
              "Please try again shortly.",
    },
    # --- usage lines --------------------------------------------------------------------
    "usage.invite": {"nl": "/uitnodigen <zaak> <rol> [organisatie]",
                     "en": "/invite <case> <role> [organisation]"},
    "usage.ack": {"nl": "/ok <nr>", "en": "/ack <no>"},
    "usage.status": {"nl": "/status <zaak>", "en": "/status <case>"},
    # --- cases and invitations ----------------------------------------------------------
    "case.created": {
        "nl": "Zaak {code} is aangemaakt. Nodig mensen uit met /uitnodigen {code} <rol>, "
              "bijvoorbeeld /uitnodigen {code} verhuurder.",
        "en": "Case {code} has been created. Invite people with /invite {code} <role>, "
              "for example /invite {code} landlord.",
    },
    "invite.created": {
        "nl": "Uitnodiging als {role} in zaak {code}: {invite}\n"
              "Eén keer te gebruiken, geldig tot {until}. Geef de code persoonlijk door; "
              "de uitgenodigde stuurt: /start {invite}",
        "en": "Invitation as {role} in case {code}: {invite}\n"
              "Single use, valid until {until}. Hand the code over in person; "
              "the invitee sends: /start {invite}",
    },
    "invite.link": {
        "nl": "Of via de link: {link}",
        "en": "Or with the link: {link}",
    },
    "invite.welcome": {
        "nl": "Welkom bij KorteLijn. Je bent nu {role} in zaak {code}. "
              "Stuur /help voor wat je kunt doen.",
        "en": "Welcome to KorteLijn. You are now {role} in case {code}. "
              "Send /help for what you can do.",
    },
    "invite.already_member": {
        "nl": "Je was al {role} in zaak {code}.",
        "en": "You already were {role} in case {code}.",
    },
    "invite.joined": {
        "nl": "{name} is nu {role} in zaak {code}.",
        "en": "{name} is now {role} in case {code}.",
    },
    "start.known": {
        "nl": "Welkom terug. Je zaken zie je met /zaken; wat je kunt doen met /help.",
        "en": "Welcome back. See your cases with /cases and what you can do with /help.",
    },
    # --- signals ------------------------------------------------------------------------
    "signal.choose_case": {
        "nl": "Voor welke zaak is het signaal?",
        "en": "Which case is the signal about?",
    },
    "signal.choose_kind": {
        "nl": "Welk soort signaal geef je door in zaak {code}? Een toelichting kun je "
              "meesturen: /signaal {code} <soort> <toelichting>",
        "en": "Which kind of signal do you pass on in case {code}? You can add a note: "
              "/signal {code} <kind> <note>",
    },
    "signal.posted": {
        "nl": "Signaal #{number} ({kind}) in zaak {code} is doorgegeven aan: {addressees}. "
              "Opvolgen vóór {due} ({left}).",
        "en": "Signal #{number} ({kind}) in case {code} has been passed on to: {addressees}. "
              "Follow-up due by {due} ({left}).",
    },
    "signal.posted_no_addressee": {
        "nl": "Signaal #{number} ({kind}) in zaak {code} is vastgelegd, maar de zaak heeft nog "
              "geen {roles}. De coördinator is gevraagd iemand uit te nodigen; de termijn loopt "
              "tot {due}.",
        "en": "Signal #{number} ({kind}) in case {code} has been recorded, but the case has no "
              "{roles} yet. The coordinator has been asked to invite someone; the window runs "
              "until {due}.",
    },
    "signal.missing_role": {
        "nl": "Zaak {code} heeft nog geen {roles}, en er wacht een signaal op opvolging. "
              "Nodig iemand uit met /uitnodigen {code} <rol>.",
        "en": "Case {code} has no {roles} yet, and a signal is waiting for follow-up. "
              "Invite someone with /invite {code} <role>.",
    },
    "signal.note": {"nl": "\nToelichting: {note}", "en": "\nNote: {note}"},
    "signal.acknowledged_mark": {
        "nl": "\n✓ Bevestigd door {who} ({when}).",
        "en": "\n✓ Acknowledged by {who} ({when}).",
    },
    "ack.done": {
        "nl": "Signaal #{number} ({kind}) in zaak {code} is bevestigd; de melder ({poster}) "
              "krijgt bericht.",
        "en": "Signal #{number} ({kind}) in case {code} is acknowledged; the sender ({poster}) "
              "is told.",
    },
    "ack.after_lapse": {
        "nl": " De termijn was al verlopen.",
        "en": " The window had already lapsed.",
    },
    "ack.notice": {
        "nl": "Je signaal #{number} ({kind}) in zaak {code} is bevestigd door {who}.",
        "en": "Your signal #{number} ({kind}) in case {code} was acknowledged by {who}.",
    },
    "button.ack": {"nl": "Bevestigen", "en": "Acknowledge"},
    # --- deadlines ----------------------------------------------------------------------
    "deadline.late": {
        "nl": "\n(Dit bericht komt te laat: het hoorde op {due} verstuurd te worden, maar de bot "
              "was toen niet bereikbaar.)",
        "en": "\n(This message is late: it was due at {due}, but the bot was not running "
              "then.)",
    },
    # --- lists and status ---------------------------------------------------------------
    "cases.none": {
        "nl": "Je hebt (nog) geen zaken.",
        "en": "You have no cases (yet).",
    },
    "cases.none_coordinator": {
        "nl": "Er zijn nog geen zaken. Maak er een met /nieuwezaak.",
        "en": "There are no cases yet. Create one with /newcase.",
    },
    "cases.header": {"nl": "Je zaken:", "en": "Your cases:"},
    # a sentence with plural forms: (singular, plural), chosen by count (i18n.tn)
    "cases.line": {
        "nl": ("{code} — {roles}; {open} open termijn", "{code} — {roles}; {open} open termijnen"),
        "en": ("{code} — {roles}; {open} open window", "{code} — {roles}; {open} open windows"),
    },
    "cases.header_coordinator": {"nl": "Alle zaken:", "en": "All cases:"},
    "cases.line_coordinator": {
        "nl": "{code} — aangemaakt {when}; {members}",
        "en": "{code} — created {when}; {members}",
    },
    "status.header": {
        "nl": "Zaak {code} — jij bent {roles}.\nBetrokken: {members}",
        "en": "Case {code} — you are {roles}.\nInvolved: {members}",
    },
    "status.coordinator": {
        "nl": "Zaak {code} — aangemaakt {when}.\nRollen: {members}\nOpen uitnodigingen: "
              "{invitations}",
        "en": "Case {code} — created {when}.\nRoles: {members}\nOpen invitations: {invitations}",
    },
    "status.no_signals": {"nl": "Geen signalen.", "en": "No signals."},
    "status.signals": {"nl": "Signalen:", "en": "Signals:"},
    "status.signal_line": {
        "nl": "#{number} {kind}, van {role} ({when}) — {state}",
        "en": "#{number} {kind}, from {role} ({when}) — {state}",
    },
    "status.state_acknowledged": {
        "nl": "bevestigd door {role} ({when})",
        "en": "acknowledged by {role} ({when})",
    },
    "status.state_open": {
        "nl": "wacht op {roles}, termijn tot {due} ({left})",
        "en": "waiting for {roles}, due {due} ({left})",
    },
    "status.state_lapsed": {
        "nl": "termijn verlopen ({due}), wacht op {roles}",
        "en": "window lapsed ({due}), waiting for {roles}",
    },
    "status.nobody": {"nl": "nog niemand", "en": "nobody yet"},
    # --- language and help --------------------------------------------------------------
    "language.set": {
        "nl": "Ik spreek je voortaan in het Nederlands aan.",
        "en": "I will speak English with you from now on.",
    },
    "help.header": {
        "nl": "Wat je kunt doen{roles}:",
        "en": "What you can do{roles}:",
    },
    "help.roles": {"nl": " (als {roles})", "en": " (as {roles})"},
    "help.newcase": {"nl": "/nieuwezaak — een nieuwe zaak aanmaken",
                     "en": "/newcase — create a new case"},
    "help.invite": {"nl": "/uitnodigen <zaak> <rol> [organisatie] — iemand uitnodigen",
                    "en": "/invite <case> <role> [organisation] — invite someone"},
    "help.signal": {"nl": "/signaal <zaak> <soort> [toelichting] — een signaal doorgeven",
                    "en": "/signal <case> <kind> [note] — pass on a signal"},
    "help.ack": {"nl": "/ok <nr> — een signaal bevestigen",
                 "en": "/ack <no> — acknowledge a signal"},
    "help.cases": {"nl": "/zaken — je zaken", "en": "/cases — your cases"},
    "help.status": {"nl": "/status <zaak> — stand van een zaak",
                    "en": "/status <case> — where a case stands"},
    "help.language": {"nl": "/taal <nl|en> — taal kiezen",
                      "en": "/language <nl|en> — choose your language"},
    "help.start": {"nl": "/start <code> — een uitnodiging aannemen",
                   "en": "/start <code> — accept an invitation"},
    "help.roles_list": {"nl": "Rollen: {roles}", "en": "Roles: {roles}"},
    "help.kinds_list": {"nl": "Soorten signaal: {kinds}", "en": "Kinds of signal: {kinds}"},
    "help.coordinator": {"nl": "coördinator", "en": "coordinator"},
    # --- the command a button or numbered choice stands for, in the reader's language ------
    # (the command word must be one the dispatcher knows for the same command: a test checks)
    "command.ack": {"nl": "/ok {number}", "en": "/ack {number}"},
    "command.view": {"nl": "/bekijk {number}", "en": "/view {number}"},
    "command.done": {"nl": "/gedaan T{number}", "en": "/done T{number}"},
    "command.signal_case": {"nl": "/signaal {code}", "en": "/signal {code}"},
    "command.signal_kind": {"nl": "/signaal {code} {kind}", "en": "/signal {code} {kind}"},
    "command.signal_case_rest": {"nl": "/signaal {code} {rest}", "en": "/signal {code} {rest}"},
    "command.reason_send": {"nl": "/reden T{number} verstuur", "en": "/reason T{number} send"},
    "command.reason_team": {"nl": "/reden T{number} zorgteam", "en": "/reason T{number} team"},
    "command.note_send": {"nl": "/toelichting {number} verstuur", "en": "/note {number} send"},
    "command.note_team": {"nl": "/toelichting {number} zorgteam", "en": "/note {number} team"},
    "command.note_withhold": {"nl": "/toelichting {number} niet", "en": "/note {number} no"},
    "command.report_kind": {"nl": "/melden_soort {kind}", "en": "/report_kind {kind}"},
    "command.report_send": {"nl": "/melden_verstuur", "en": "/report_send"},
    "command.report_send_coach": {"nl": "/melden_verstuur begeleider",
                                  "en": "/report_send coach"},
    "command.cancel": {"nl": "/annuleer", "en": "/cancel"},
    "command.away_backup": {"nl": "/afwezig {until} {name}", "en": "/away {until} {name}"},
    "command.forget_confirm": {"nl": "/vergeetmij bevestig", "en": "/forgetme confirm"},
    # --- console ------------------------------------------------------------------------
    "console.banner": {
        "nl": "KorteLijn in de terminal. Je typt als {name} (coördinator). /als <naam> wisselt "
              "van persoon; /help toont wat je kunt doen. Stoppen: Ctrl-D.",
        "en": "KorteLijn in the terminal. You type as {name} (coordinator). /as <name> "
              "switches person; /help shows what you can do. Quit: Ctrl-D.",
    },
    "console.now_typing": {"nl": "Je typt nu als {name}.", "en": "You are now typing as {name}."},
    "console.edited": {"nl": "(bewerkt)", "en": "(edited)"},
}

ROLE_NAMES: dict[str, dict[str, str]] = {
    "coach": {"nl": "begeleider", "en": "coach"},
    "team_lead": {"nl": "teamleider", "en": "team lead"},
    "landlord": {"nl": "verhuurder", "en": "landlord"},
    "police": {"nl": "wijkagent", "en": "community police officer"},
    "municipality": {"nl": "gemeente", "en": "municipality"},
    "mediator": {"nl": "buurtbemiddeling", "en": "neighbour mediation"},
    "monitor": {"nl": "procesmonitor", "en": "process monitor"},
    "tenant": {"nl": "deelnemer", "en": "tenant"},
}

KIND_NAMES: dict[str, dict[str, str]] = {
    "missed_rent": {"nl": "gemiste huurbetaling", "en": "missed rent payment"},
    "mailbox_full": {"nl": "brievenbus vol", "en": "mailbox full"},
    "noise": {"nl": "geluidsoverlast", "en": "noise"},
    "smell": {"nl": "stankoverlast", "en": "smell"},
    "visitors": {"nl": "overlast door bezoek", "en": "nuisance from visitors"},
    "public_space": {"nl": "overlast op straat", "en": "street / public space"},
    "pollution": {"nl": "vervuiling woning", "en": "pollution of the home"},
    "threatened_nuisance": {"nl": "dreigende overlast", "en": "threatened nuisance"},
    "police_incident": {"nl": "politie-incident", "en": "police incident"},
    "care_concern": {"nl": "zorgsignaal", "en": "care concern"},
    "harassed_tenant": {"nl": "deelnemer wordt lastiggevallen", "en": "tenant harassed"},
    "unjust_complaint": {"nl": "onterechte klacht", "en": "unjust complaint"},
    "other": {"nl": "overig", "en": "other"},
}

