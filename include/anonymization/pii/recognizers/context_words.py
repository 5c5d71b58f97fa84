"""Words that, a few tokens before a candidate value, make it more likely to be personal data.

Presidio raises a detection's score when one of its recognizer's context words
appears among the five words before it. Matching is by substring of the
lower-cased token ("tél" matches "téléphone", "portable" matches "portables"),
so short stems are preferred to full words. Presidio ships English words only;
the citizens write in French, hence these lists.
"""

from __future__ import annotations

from include.anonymization.pii.entities import (
    EMAIL_ADDRESS,
    FR_LICENSE_PLATE,
    FR_NIR,
    FR_SIREN,
    FR_SIRET,
    IBAN_CODE,
    PHONE_NUMBER,
    SUPPORTED_LANGUAGES,
)

CONTEXT_WORDS: dict[str, dict[str, list[str]]] = {
    "fr": {
        EMAIL_ADDRESS: ["mail", "courriel", "mél", "adresse", "écrire", "contact"],
        IBAN_CODE: ["iban", "rib", "bancaire", "banque", "compte", "virement", "rembours"],
        PHONE_NUMBER: ["tél", "tel", "portable", "mobile", "fixe", "joindre", "appel", "numéro"],
        FR_NIR: ["sécu", "secu", "sociale", "nir", "insee", "vitale", "assuré", "numéro"],
        FR_SIREN: ["siren", "entreprise", "société", "immatricul", "rcs"],
        FR_SIRET: ["siret", "entreprise", "société", "établissement", "immatricul"],
        FR_LICENSE_PLATE: [
            "immatricul",
            "plaque",
            "véhicule",
            "voiture",
            "camion",
            "moto",
            "scooter",
            "garé",
            "stationn",
        ],
    },
    "en": {
        EMAIL_ADDRESS: ["mail", "contact", "write", "address"],
        IBAN_CODE: ["iban", "bank", "account", "transfer", "refund"],
        PHONE_NUMBER: ["phone", "tel", "mobile", "cell", "call", "reach", "number"],
        FR_NIR: ["social", "security", "insurance", "nir", "insee", "number"],
        FR_SIREN: ["siren", "company", "business", "registration"],
        FR_SIRET: ["siret", "company", "business", "registration"],
        FR_LICENSE_PLATE: ["plate", "registration", "vehicle", "car", "truck", "van", "parked"],
    },
}

if tuple(CONTEXT_WORDS) != SUPPORTED_LANGUAGES:
    raise ImportError(f"context words cover {tuple(CONTEXT_WORDS)}, not {SUPPORTED_LANGUAGES}")
