"""Sentences about data protection: closing and purging a case, the access log, and what is
stored about a person (AVG art. 15)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str | tuple[str, str]]] = {
    # --- closing a case -------------------------------------------------------------------
    "usage.closecase": {"nl": "/sluitzaak <zaak>", "en": "/closecase <case>"},
    "error.case_closed": {
        "nl": "Zaak {code} is gesloten: er kan niets meer bij.",
        "en": "Case {code} is closed: nothing more can be added to it.",
    },
    "retention.closed": {
        "nl": "Zaak {code} is gesloten. Gestopte termijnen: {cancelled}. De inhoud van de zaak "
              "wordt gewist vanaf {purge}; alleen de zaakcode en de data (aangemaakt, gesloten, "
              "gewist) blijven bewaard als vastlegging dat de zaak bestond.",
        "en": "Case {code} is closed. Windows stopped: {cancelled}. The case's content will be "
              "erased from {purge}; only the case code and its dates (created, closed, erased) "
              "are kept as the record that the case existed.",
    },
    "retention.closed_notice": {
        "nl": "Zaak {code} is gesloten door de coördinator. Er lopen geen termijnen meer en er "
              "kan niets meer bij.",
        "en": "Case {code} was closed by the coordinator. No windows run any more and nothing "
              "more can be added.",
    },
    # --- the access log -------------------------------------------------------------------
    "usage.accesslog": {"nl": "/toegangslog <zaak>", "en": "/accesslog <case>"},
    # a sentence with plural forms: (singular, plural), chosen by count (i18n.tn)
    "accesslog.header": {
        "nl": ("Toegangslog van zaak {code}: wie las of ontving wat, wanneer, in welke rol en "
               "waarvoor ({count} regel).",
               "Toegangslog van zaak {code}: wie las of ontving wat, wanneer, in welke rol en "
               "waarvoor ({count} regels)."),
        "en": ("Access log of case {code}: who read or received what, when, in which role and "
               "why ({count} line).",
               "Access log of case {code}: who read or received what, when, in which role and "
               "why ({count} lines)."),
    },
    "accesslog.empty": {
        "nl": "Het toegangslog van zaak {code} is leeg.",
        "en": "The access log of case {code} is empty.",
    },
    "accesslog.line": {
        "nl": "{when} — {who} ({role}): {what}; doel: {purpose}",
        "en": "{when} — {who} ({role}): {what}; purpose: {purpose}",
    },
    "accesslog.nobody": {"nl": "(persoon gewist)", "en": "(person erased)"},
    "accesslog.no_role": {"nl": "geen rol", "en": "no role"},
    "accesslog.role.coordinator": {"nl": "coördinator", "en": "coordinator"},
    "accesslog.what.status": {"nl": "stand van de zaak", "en": "case status"},
    "accesslog.what.summary": {"nl": "samenvatting", "en": "summary"},
    "accesslog.what.signal": {"nl": "signaal bekeken", "en": "signal viewed"},
    "accesslog.what.dossier": {"nl": "dossier", "en": "dossier"},
    "accesslog.what.digest": {"nl": "overzicht", "en": "digest"},
    "accesslog.what.meeting": {"nl": "casusoverleg-overzicht", "en": "case meeting overview"},
    "accesslog.what.delivery": {"nl": "bericht ontvangen", "en": "message received"},
    "accesslog.what.access_log": {"nl": "toegangslog ingezien", "en": "access log read"},
    "accesslog.what.personal_data": {
        "nl": "eigen gegevens opgevraagd", "en": "own data requested"},
    "accesslog.purpose.notification": {"nl": "melding", "en": "notification"},
    "accesslog.purpose.view": {"nl": "bekijken", "en": "viewing"},
    "accesslog.purpose.summary_command": {"nl": "samenvatting opgevraagd",
                                          "en": "summary requested"},
    "accesslog.purpose.case_meeting_overview": {"nl": "casusoverleg", "en": "case meeting"},
    "accesslog.purpose.daily_digest": {"nl": "dagelijks overzicht", "en": "daily digest"},
    "accesslog.purpose.weekly_digest": {"nl": "wekelijks overzicht", "en": "weekly digest"},
    # --- what is stored about me ----------------------------------------------------------
    "mydata.header": {
        "nl": "Wat KorteLijn over jou bewaart (AVG art. 15), op {when}. Over andere mensen "
              "staat hier niets.",
        "en": "What KorteLijn stores about you (GDPR art. 15), as of {when}. Nothing about "
              "other people is included.",
    },
    "mydata.profile": {
        "nl": "Naam: {name}\nTaal: {language}\nStille uren: {quiet}\nDagelijks overzicht om: "
              "{digest}\nBekend sinds: {since}",
        "en": "Name: {name}\nLanguage: {language}\nQuiet hours: {quiet}\nDaily digest at: "
              "{digest}\nKnown since: {since}",
    },
    "mydata.coordinator": {
        "nl": "Je bent coördinator van deze KorteLijn.",
        "en": "You are a coordinator of this KorteLijn.",
    },
    "mydata.language.nl": {"nl": "Nederlands", "en": "Dutch"},
    "mydata.language.en": {"nl": "Engels", "en": "English"},
    "mydata.default": {"nl": "standaard ({value})", "en": "default ({value})"},
    "mydata.identities": {"nl": "Chataccounts:", "en": "Chat accounts:"},
    "mydata.identity_line": {
        "nl": "- {transport}: {address} (sinds {since})",
        "en": "- {transport}: {address} (since {since})",
    },
    "mydata.memberships": {"nl": "Rollen in zaken:", "en": "Roles in cases:"},
    "mydata.membership_line": {
        "nl": "- {code}: {role}, sinds {since}",
        "en": "- {code}: {role}, since {since}",
    },
    "mydata.signals": {"nl": "Signalen die je doorgaf:", "en": "Signals you passed on:"},
    "mydata.signal_line": {
        "nl": "- #{number} in {code}: {kind}, {when}, als {role}",
        "en": "- #{number} in {code}: {kind}, {when}, as {role}",
    },
    "mydata.signal_note": {"nl": "  Jouw toelichting: {note}", "en": "  Your note: {note}"},
    "mydata.acks": {"nl": "Signalen die je bevestigde:", "en": "Signals you acknowledged:"},
    "mydata.ack_line": {
        "nl": "- #{number} in {code}, {when}, als {role}",
        "en": "- #{number} in {code}, {when}, as {role}",
    },
    "mydata.absences": {"nl": "Afwezigheid:", "en": "Absences:"},
    "mydata.absence_line": {
        "nl": "- van {start} tot {until}",
        "en": "- from {start} until {until}",
    },
    "mydata.reads": {
        "nl": "Wat je las of ontving (uit het toegangslog):",
        "en": "What you read or received (from the access log):",
    },
    "mydata.read_line": {
        "nl": "- {when} — {code}: {what}; doel: {purpose}",
        "en": "- {when} — {code}: {what}; purpose: {purpose}",
    },
    "mydata.none": {"nl": "- geen", "en": "- none"},
    "mydata.footer": {
        "nl": "Klopt er iets niet, of wil je iets laten wissen? Vraag het de coördinator.",
        "en": "Is something wrong, or do you want something erased? Ask the coordinator.",
    },
    # --- the command menu (Telegram) ------------------------------------------------------
    "menu.sluitzaak": {"nl": "Een zaak sluiten", "en": "Close a case"},
    "menu.toegangslog": {"nl": "Wie wat van een zaak las", "en": "Who read what of a case"},
    "menu.mijngegevens": {"nl": "Wat er over jou bewaard wordt",
                          "en": "What is stored about you"},
    # --- help -----------------------------------------------------------------------------
    "help.closecase": {
        "nl": "/sluitzaak <zaak> — een zaak sluiten (de inhoud wordt na de bewaartermijn "
              "gewist)",
        "en": "/closecase <case> — close a case (its content is erased after the retention "
              "period)",
    },
    "help.accesslog": {
        "nl": "/toegangslog <zaak> — wie wat van een zaak las of ontving",
        "en": "/accesslog <case> — who read or received what of a case",
    },
    "help.mydata": {
        "nl": "/mijngegevens — wat KorteLijn over jou bewaart",
        "en": "/mydata — what KorteLijn stores about you",
    },
}
