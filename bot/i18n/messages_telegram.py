"""Sentences of the chat networks' area: delivery failures told to the coordinator, linking a
group to a case, Telegram's command menu and buttons. Dutch first, English second."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str | tuple[str, str]]] = {
    # --- delivery failures, told to the coordinator (facts only, never the message) -------
    "delivery.failed": {
        "nl": "Een bericht aan {name} via {transport} kon niet worden afgeleverd ({reason}).",
        "en": "A message to {name} via {transport} could not be delivered ({reason}).",
    },
    "delivery.unknown_recipient": {
        "nl": "een chat zonder bekende persoon",
        "en": "a chat without a known person",
    },
    "delivery.reason.blocked": {
        "nl": "de ontvanger heeft de bot geblokkeerd",
        "en": "the recipient has blocked the bot",
    },
    "delivery.reason.chat_not_found": {
        "nl": "de chat bestaat niet (meer)",
        "en": "the chat does not exist (any more)",
    },
    "delivery.reason.removed": {
        "nl": "de bot is uit de groep verwijderd",
        "en": "the bot was removed from the group",
    },
    "delivery.reason.refused": {
        "nl": "het bericht werd geweigerd",
        "en": "the message was refused",
    },
    "delivery.reason.gave_up": {
        "nl": "opgegeven na {attempts} pogingen",
        "en": "given up after {attempts} attempts",
    },
    # --- linking a group to a case ----------------------------------------------------------
    "chat.linked": {
        "nl": "Deze groep is gekoppeld aan zaak {code}.",
        "en": "This group is linked to case {code}.",
    },
    "chat.unlinked": {
        "nl": "Deze groep is niet meer gekoppeld aan zaak {code}.",
        "en": "This group is no longer linked to case {code}.",
    },
    "error.group_only": {
        "nl": "Dat kan alleen in een groep: voeg de bot toe aan de groep en stuur het daar.",
        "en": "That only works in a group: add the bot to the group and send it there.",
    },
    "usage.link": {"nl": "/koppel <zaak>", "en": "/link <case>"},
    # --- a pick among buttons is final ---------------------------------------------------
    "choice.picked": {"nl": "\n→ Gekozen: {label}", "en": "\n→ Chosen: {label}"},
    "error.choice_made": {
        "nl": "Je had hier al een keuze gemaakt.",
        "en": "You already made a choice here.",
    },
    "error.choice_range": {
        "nl": "Dat nummer staat niet in de lijst. Kies {valid}.",
        "en": "That number is not in the list. Choose {valid}.",
    },
    "error.choice_gone": {
        "nl": "Die keuze is er niet meer. Typ het commando of vraag het opnieuw op.",
        "en": "That choice is no longer there. Type the command or ask for it again.",
    },
    # --- Telegram buttons -------------------------------------------------------------------
    "telegram.button_expired": {
        "nl": "Deze knop werkt niet meer. Typ het commando of vraag het opnieuw op.",
        "en": "This button no longer works. Type the command or ask for it again.",
    },
    # --- the command menu (setMyCommands), by the command's Dutch name ---------------------
    "menu.start": {"nl": "Een uitnodiging aannemen", "en": "Accept an invitation"},
    "menu.nieuwezaak": {"nl": "Een nieuwe zaak aanmaken", "en": "Create a new case"},
    "menu.uitnodigen": {"nl": "Iemand uitnodigen voor een rol",
                        "en": "Invite someone to a role"},
    "menu.signaal": {"nl": "Een signaal doorgeven", "en": "Pass on a signal"},
    "menu.ok": {"nl": "Een signaal bevestigen", "en": "Acknowledge a signal"},
    "menu.zaken": {"nl": "Je zaken", "en": "Your cases"},
    "menu.status": {"nl": "Stand van een zaak", "en": "Where a case stands"},
    "menu.taal": {"nl": "Taal kiezen", "en": "Choose your language"},
    "menu.help": {"nl": "Wat je kunt doen", "en": "What you can do"},
    "menu.termijnen": {"nl": "Je open termijnen", "en": "Your open windows"},
    "menu.gedaan": {"nl": "Een termijn afronden", "en": "Complete a window"},
    "menu.termijn": {"nl": "Een termijn starten", "en": "Start a window"},
    "menu.pauzeer": {"nl": "Een termijn pauzeren", "en": "Pause a window"},
    "menu.hervat": {"nl": "Een termijn hervatten", "en": "Resume a window"},
    "menu.verleng": {"nl": "Een termijn verlengen", "en": "Extend a window"},
    "menu.afwezig": {"nl": "Afwezigheid met vervanger melden",
                     "en": "Register an absence with a backup"},
    "menu.terug": {"nl": "Je afwezigheid beëindigen", "en": "End your absence"},
    "menu.stil": {"nl": "Je stille uren", "en": "Your quiet hours"},
    "menu.koppel": {"nl": "Deze groep aan een zaak koppelen",
                    "en": "Link this group to a case"},
    "menu.ontkoppel": {"nl": "Deze groep loskoppelen", "en": "Unlink this group"},
}
