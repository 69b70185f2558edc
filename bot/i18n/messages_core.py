"""Sentences of the core's use cases: reasons shown before they go, releases and resolutions
done once, extensions within bounds, digests for whom they exist, shared chats with
strangers."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "error.extension_too_long": {
        "nl": "Een termijn kan in één keer ten hoogste {limit} dagen verlengd worden. Er is "
        "niets veranderd.",
        "en": "A window can be extended by at most {limit} days at once. Nothing was changed.",
    },
    "error.no_reason_to_share": {
        "nl": "Er is geen reden bij termijn T{number} die nog op jouw keuze wacht.",
        "en": "There is no reason for window T{number} waiting for your choice.",
    },
    "error.already_released": {
        "nl": "Signaal #{number} was al vrijgegeven aan de deelnemer.",
        "en": "Signal #{number} was already released to the tenant.",
    },
    "error.already_resolved": {
        "nl": "Melding #{number} was al afgehandeld.",
        "en": "Report #{number} was already resolved.",
    },
    "error.not_releasable": {
        "nl": "Signaal #{number} ({kind}) is geen klacht die het zorgteam aan de deelnemer "
        "vrijgeeft. Vrijgeven kan alleen bij een overlastklacht.",
        "en": "Signal #{number} ({kind}) is no complaint the care team releases to the tenant. "
        "Only a nuisance complaint can be released.",
    },
    "error.not_resolvable": {
        "nl": "Signaal #{number} is geen melding van de deelnemer die jij kunt afhandelen.",
        "en": "Signal #{number} is no report of the tenant that you can resolve.",
    },
    "error.no_daily_digest": {
        "nl": "Een dagelijks overzicht is er alleen voor het zorgteam; jouw rol krijgt het "
        "wekelijkse overzicht (of geen).",
        "en": "A daily digest exists only for the care team; your role gets the weekly digest "
        "(or none).",
    },
    "usage.reason": {
        "nl": "/reden T<nr> verstuur|zorgteam",
        "en": "/reason T<no> send|team",
    },
    "reason.preview": {
        "nl": "Je reden is gedeeld met het zorgteam. Wie hem ook zou lezen: {readers}. "
        "Versturen?",
        "en": "Your reason is shared with the care team. Who else would read it: {readers}. "
        "Send it?",
    },
    "reason.sent": {
        "nl": "De reden is verstuurd aan: {readers}.",
        "en": "The reason was sent to: {readers}.",
    },
    "reason.kept": {
        "nl": "De reden bij termijn T{number} blijft bij het zorgteam.",
        "en": "The reason for window T{number} stays with the care team.",
    },
    "button.reason_send": {"nl": "Versturen", "en": "Send"},
    "button.reason_team": {"nl": "Alleen zorgteam", "en": "Care team only"},
    "window.reason_follows": {
        "nl": "Reden bij termijn T{number} ({subject}) in zaak {code}: {reason}",
        "en": "Reason for window T{number} ({subject}) in case {code}: {reason}",
    },
    "quiet.none": {
        "nl": "Je hebt geen stille uren. Instellen met /stil 22:00-07:30.",
        "en": "You have no quiet hours. Set them with /quiet 22:00-07:30.",
    },
    "signal.shared_news": {
        "nl": "Er is nieuws in zaak {code}. Bekijk het in je eigen gesprek met de bot.",
        "en": "There is news in case {code}. See it in your own chat with the bot.",
    },
    "help.reason": {
        "nl": "/reden T<nr> verstuur|zorgteam — een reden voor pauze of verlenging laten gaan",
        "en": "/reason T<no> send|team — let a reason for a pause or extension go",
    },
}
