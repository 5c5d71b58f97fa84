"""Social-network handles (@name) and profile URLs (facebook.com/jean.dupont) that name a person.

A handle or a profile address leads straight to its owner, however the rest of
the text is scrubbed. Presidio's URL recognizer only sees a generic URL and needs
a scheme; a profile is often typed bare ("insta : @julie_m", "facebook.com/julie").
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from include.anonymization.pii.entities import SOCIAL_HANDLE
from include.anonymization.pii.recognizers.gates import contains, gated

# "@julie_m", not the "@orange" of an e-mail ("paul.martin @orange.fr") nor "a@b". A hyphen
# may sit inside ("@jean-dupont.bsky.social", a Bluesky handle): a handle is never cut there,
# "@olivier" of "@olivier-marin67" would publish the rest.
HANDLE_REGEX = r"(?<![\w.@+\-])@[A-Za-z0-9_](?:[A-Za-z0-9_.\-]{0,28}[A-Za-z0-9_])?(?![\w@\-]|\.\w)"
_NETWORKS = (
    r"(?:facebook\.com|fb\.com|instagram\.com|x\.com|twitter\.com|tiktok\.com|threads\.net"
    r"|youtube\.com(?=/@)|snapchat\.com/add|linkedin\.com/in|mastodon\.social|bsky\.app/profile)"
)
# Paths that are pages of the network itself, not somebody's profile.
_NOT_A_PROFILE = (
    r"(?!(?:watch|groups|events|pages|p|i|hashtag|explore|share|sharer|search|intent|home"
    r"|login|reel|story|stories|status|playlist|results)(?![\w.\-]))"
)
# The rest of a profile's address goes with it: Facebook's numeric profiles
# ("profile.php?id=1000…", "people/Jean-Dupont/1000…/") kept their id, and the name.
PROFILE_URL_REGEX = (
    rf"(?<![\w.\-/])(?:https?://)?(?:(?:www|m|fr|mobile)\.)?{_NETWORKS}/{_NOT_A_PROFILE}"
    r"@?[\w.\-]{2,60}(?:/[\w.\-]{1,60}){0,3}"
    r"(?:\?[\w=&%.\-]{1,200})?"
    r"(?<![.\-])/?"
)

CONTEXT: dict[str, list[str]] = {
    "fr": ["insta", "facebook", "twitter", "tiktok", "compte", "profil", "pseudo", "réseau"],
    "en": ["insta", "facebook", "twitter", "tiktok", "account", "profile", "handle"],
}


def social_recognizer(language: str) -> PatternRecognizer:
    recognizer = PatternRecognizer(
        supported_entity=SOCIAL_HANDLE,
        name=f"{SOCIAL_HANDLE}_{language}",
        supported_language=language,
        patterns=[
            Pattern(name="profile_url", regex=PROFILE_URL_REGEX, score=0.85),
            Pattern(name="handle", regex=HANDLE_REGEX, score=0.6),
        ],
        context=CONTEXT[language],
    )
    return gated(recognizer, contains("@", "/"))  # a handle's "@", a profile URL's "network/"
