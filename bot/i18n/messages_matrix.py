"""Sentences of the Matrix transport: how to answer a choice, and the invitation's link to the
bot (a matrix.to link opens a chat with the bot but cannot carry the code). Dutch first,
English second."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "matrix.choice_hint_one": {
        "nl": "Reageer met {emoji} of stuur 1.",
        "en": "React with {emoji} or send 1.",
    },
    "matrix.choice_hint_many": {
        "nl": "Stuur het nummer van je keuze, of reageer met dat nummer.",
        "en": "Send the number of your choice, or react with that number.",
    },
    "invite.link.matrix": {
        "nl": "In Matrix: open {link} en stuur daar /start {invite}",
        "en": "In Matrix: open {link} and send /start {invite} there",
    },
}
