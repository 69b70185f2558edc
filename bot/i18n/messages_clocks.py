"""Sentences about windows and their clocks: reminders, lapses, escalations, pauses,
absences, quiet hours and the list of open windows."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str | tuple[str, str]]] = {
    "norm.N1": {"nl": "opvolging van een signaal", "en": "follow-up of a signal"},
    "norm.N2": {
        "nl": "informatie van de verhuurder over een klacht",
        "en": "the landlord's information on a complaint",
    },
    "norm.N3": {
        "nl": "start van de behandeling van een klacht",
        "en": "start of handling a complaint",
    },
    "norm.N5": {
        "nl": "vierwekencheck bij verhuurder, meldpunt en wijkagent",
        "en": "four-week check with landlord, nuisance desk and police",
    },
    "norm.N6": {
        "nl": "navraag na zes weken of de klachten verholpen zijn",
        "en": "six-week check whether the complaints are resolved",
    },
    "norm.N7": {
        "nl": "overlast verholpen binnen drie maanden",
        "en": "nuisance resolved within three months",
    },
    "norm.N10": {
        "nl": "evaluatie van het laatstekanstraject",
        "en": "evaluation of the last-chance trajectory",
    },
    "norm.N10min": {
        "nl": "minimale duur van het laatstekanstraject",
        "en": "minimum duration of the last-chance trajectory",
    },
    "norm.N12": {
        "nl": "jaarlijkse evaluatie van de samenwerking",
        "en": "yearly evaluation of the cooperation",
    },
    "button.done": {"nl": "Afgerond", "en": "Done"},
    "window.subject_signal": {
        "nl": "signaal #{number} ({kind})",
        "en": "signal #{number} ({kind})",
    },
    "window.subject_norm": {"nl": "{norm} (T{number})", "en": "{norm} (T{number})"},
    "window.action_ack": {
        "nl": "Bevestig met /ok {number}.",
        "en": "Acknowledge with /ack {number}.",
    },
    "window.action_done": {
        "nl": "Afronden met /gedaan T{number}.",
        "en": "Complete it with /done T{number}.",
    },
    "window.reminder": {
        "nl": "Herinnering: {subject} in zaak {code} staat nog open. De termijn verloopt {due} "
        "({left}). {action}",
        "en": "Reminder: {subject} in case {code} is still open. The window lapses {due} "
        "({left}). {action}",
    },
    "window.lapsed_responsible": {
        "nl": "Termijn verlopen: {subject} in zaak {code} is niet binnen de termijn afgerond "
        "(tot {due}). {action}",
        "en": "Window lapsed: {subject} in case {code} was not completed in time "
        "(due {due}). {action}",
    },
    "window.lapsed_waiting": {
        "nl": "Termijn verlopen: {subject} in zaak {code} is niet binnen de termijn afgerond "
        "door {roles} (tot {due}).",
        "en": "Window lapsed: {subject} in case {code} was not completed by {roles} in time "
        "(due {due}).",
    },
    "window.escalation_team_lead": {
        "nl": "Escalatie: {subject} in zaak {code} is over de termijn sinds {due}; {roles} "
        "heeft nog niet gereageerd. Wijs zo nodig een vervanger aan.",
        "en": "Escalation: {subject} in case {code} is overdue since {due}; {roles} has not "
        "responded. Assign a backup if needed.",
    },
    "window.escalation_coordinator": {
        "nl": "Escalatie: in zaak {code} staat een termijn ({norm}) open sinds {due}, zonder "
        "reactie.",
        "en": "Escalation: in case {code} a window ({norm}) is overdue since {due}, without "
        "response.",
    },
    "window.met": {
        "nl": "Afgerond: {subject} in zaak {code}.",
        "en": "Completed: {subject} in case {code}.",
    },
    "window.met_notice": {
        "nl": "{subject} in zaak {code} is afgerond door {who}.",
        "en": "{subject} in case {code} was completed by {who}.",
    },
    "window.next_period": {
        "nl": " De volgende termijn loopt tot {due}.",
        "en": " The next window runs until {due}.",
    },
    "window.opened": {
        "nl": "Termijn T{number} gestart: {norm} in zaak {code}, voor {roles}, tot {due} "
        "({left}).",
        "en": "Window T{number} started: {norm} in case {code}, for {roles}, until {due} "
        "({left}).",
    },
    "window.opened_notice": {
        "nl": "Nieuwe termijn T{number} in zaak {code}: {norm}, af te ronden vóór {due}. "
        "Afronden met /gedaan T{number}.",
        "en": "New window T{number} in case {code}: {norm}, to complete by {due}. "
        "Complete it with /done T{number}.",
    },
    "window.paused": {
        "nl": "Termijn T{number} ({subject}) in zaak {code} is gepauzeerd. Hervatten met "
        "/hervat T{number}.",
        "en": "Window T{number} ({subject}) in case {code} is paused. Resume with "
        "/resume T{number}.",
    },
    "window.resumed": {
        "nl": "Termijn T{number} ({subject}) in zaak {code} loopt weer, tot {due} ({left}).",
        "en": "Window T{number} ({subject}) in case {code} runs again, until {due} ({left}).",
    },
    "window.extended": {
        "nl": "Termijn T{number} ({subject}) in zaak {code} is verlengd tot {due} ({left}).",
        "en": "Window T{number} ({subject}) in case {code} is extended until {due} ({left}).",
    },
    "window.changed_notice": {
        "nl": "Termijn T{number} ({subject}) in zaak {code} is {change} door {who}: {reason}",
        "en": "Window T{number} ({subject}) in case {code} was {change} by {who}: {reason}",
    },
    "change.paused": {"nl": "gepauzeerd", "en": "paused"},
    "change.resumed": {"nl": "hervat", "en": "resumed"},
    "change.extended": {"nl": "verlengd", "en": "extended"},
    "error.reason_needed": {
        "nl": "Geef een reden op: {usage}. De reden komt op de tijdlijn van de zaak.",
        "en": "Give a reason: {usage}. The reason goes on the case's timeline.",
    },
    "error.unknown_window": {
        "nl": "Er is geen termijn T{number} die jij kunt wijzigen. Je termijnen: /termijnen",
        "en": "There is no window T{number} that you can change. Your windows: /deadlines",
    },
    "error.window_not_open": {
        "nl": "Termijn T{number} loopt niet (meer): {state}.",
        "en": "Window T{number} is not running (any more): {state}.",
    },
    "error.window_not_paused": {
        "nl": "Termijn T{number} is niet gepauzeerd.",
        "en": "Window T{number} is not paused.",
    },
    "error.unknown_norm": {
        "nl": "Onbekende norm '{given}'. Kies uit: {choices}.",
        "en": "Unknown norm '{given}'. Choose from: {choices}.",
    },
    "error.bad_span": {
        "nl": "'{given}' is geen termijn. Schrijf bijvoorbeeld 24h, 2d, 1wd (werkdag), 1w of 1mo.",
        "en": "'{given}' is not a length of time. Write e.g. 24h, 2d, 1wd (working day), 1w "
        "or 1mo.",
    },
    "error.bad_moment": {
        "nl": "'{given}' is geen datum of duur vanaf morgen. Schrijf bijvoorbeeld {iso}, "
        "{short} of 3d.",
        "en": "'{given}' is not a date or length from tomorrow on. Write e.g. {iso}, {short} "
        "or 3d.",
    },
    "error.bad_quiet_hours": {
        "nl": "Schrijf stille uren als 22:00-07:30, of /stil uit.",
        "en": "Write quiet hours as 22:00-07:30, or /quiet off.",
    },
    "error.unknown_backup": {
        "nl": "'{given}' is geen collega in het zorgteam van een van je zaken. Kies uit: "
        "{choices}.",
        "en": "'{given}' is not a colleague in the care team of one of your cases. Choose "
        "from: {choices}.",
    },
    "error.no_backup": {
        "nl": "Er is geen collega in het zorgteam van je zaken die je kan vervangen.",
        "en": "There is no colleague in the care team of your cases to stand in for you.",
    },
    "usage.pause": {"nl": "/pauzeer T<nr> <reden>", "en": "/pause T<no> <reason>"},
    "usage.resume": {"nl": "/hervat T<nr>", "en": "/resume T<no>"},
    "usage.extend": {
        "nl": "/verleng T<nr> <duur> <reden>",
        "en": "/extend T<no> <length> <reason>",
    },
    "usage.done": {"nl": "/gedaan T<nr>", "en": "/done T<no>"},
    "usage.window": {"nl": "/termijn <zaak> <norm>", "en": "/window <case> <norm>"},
    "usage.away": {"nl": "/afwezig <tot> [vervanger]", "en": "/away <until> [backup]"},
    "deadlines.none": {
        "nl": "Er staan geen termijnen voor je open.",
        "en": "You have no open windows.",
    },
    "deadlines.mine": {"nl": "Termijnen die op jou wachten:", "en": "Windows waiting for you:"},
    "deadlines.waiting": {
        "nl": "Termijnen waarop jij wacht:",
        "en": "Windows you are waiting for:",
    },
    "deadlines.case": {
        "nl": "Open termijnen in zaak {code}:",
        "en": "Open windows in case {code}:",
    },
    "deadlines.line": {
        "nl": "T{number} {subject} — zaak {code}, {state}",
        "en": "T{number} {subject} — case {code}, {state}",
    },
    "deadlines.state_open": {"nl": "nog {left} (tot {due})", "en": "{left} left (until {due})"},
    "deadlines.state_overdue": {"nl": "verlopen sinds {due}", "en": "overdue since {due}"},
    "deadlines.state_paused": {"nl": "gepauzeerd", "en": "paused"},
    "away.set": {
        "nl": "Je bent afwezig tot {until}. Herinneringen gaan intussen naar {backup}.",
        "en": "You are away until {until}. Reminders go to {backup} meanwhile.",
    },
    "away.backup_notice": {
        "nl": "{name} is afwezig tot {until}; jij krijgt intussen diens herinneringen.",
        "en": "{name} is away until {until}; you receive their reminders meanwhile.",
    },
    "away.ended": {
        "nl": "Welkom terug; je krijgt je herinneringen weer zelf.",
        "en": "Welcome back; you receive your own reminders again.",
    },
    "away.not_away": {
        "nl": "Je stond niet als afwezig geregistreerd.",
        "en": "You were not registered as away.",
    },
    "away.choose_backup": {
        "nl": "Wie vervangt je tot {until}?",
        "en": "Who stands in for you until {until}?",
    },
    "away.on_behalf": {"nl": " (vervanging van {name})", "en": " (standing in for {name})"},
    "quiet.set": {
        "nl": "Je stille uren: {start}–{end}. Herinneringen in die uren komen om {end}.",
        "en": "Your quiet hours: {start}–{end}. Reminders in those hours come at {end}.",
    },
    "quiet.off": {"nl": "Je hebt geen stille uren meer.", "en": "You no longer have quiet hours."},
    "quiet.show": {
        "nl": "Je stille uren: {start}–{end}.",
        "en": "Your quiet hours: {start}–{end}.",
    },
    "help.deadlines": {
        "nl": "/termijnen [zaak] — je open termijnen",
        "en": "/deadlines [case] — your open windows",
    },
    "help.done": {
        "nl": "/gedaan T<nr> — een termijn afronden",
        "en": "/done T<no> — complete a window",
    },
    "help.window": {
        "nl": "/termijn <zaak> <norm> — een termijn starten",
        "en": "/window <case> <norm> — start a window",
    },
    "help.pause": {
        "nl": "/pauzeer T<nr> <reden>, /hervat T<nr>, /verleng T<nr> <duur> <reden>",
        "en": "/pause T<no> <reason>, /resume T<no>, /extend T<no> <length> <reason>",
    },
    "help.away": {
        "nl": "/afwezig <tot> [vervanger], /terug — afwezigheid",
        "en": "/away <until> [backup], /back — absence",
    },
    "help.quiet": {
        "nl": "/stil [22:00-07:30|uit] — je stille uren",
        "en": "/quiet [22:00-07:30|off] — your quiet hours",
    },
    "window.state.open": {"nl": "open", "en": "open"},
    "window.state.paused": {"nl": "gepauzeerd", "en": "paused"},
    "window.state.met": {"nl": "afgerond", "en": "completed"},
    "window.state.lapsed": {"nl": "verlopen", "en": "lapsed"},
    "window.state.cancelled": {"nl": "geannuleerd", "en": "cancelled"},
}
