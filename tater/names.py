"""Names people give things (keys, organizations, tenants): one line of plain text.

A name is shown in lists, the Activity Log and mail subjects, so it must read as it is: no
control characters (a line break in a Subject header stops the mail) and no text-direction
controls (Trojan Source, CVE-2021-42574), and nothing that shows as nothing: a name of
blank-looking characters reads as unnamed, and ``prod`` with a zero-width space inside
looks like another key's ``prod``. Joiners stay allowed (emoji sequences, Persian)."""

from __future__ import annotations

import re
import unicodedata

from tater.exceptions import HoldsSecret, InvalidInput
from tater.secret_detectors import holds_secret

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


# Characters that are invisible yet no part of any script's writing: zero-width space,
# word joiner, byte order mark, Mongolian vowel separator, the Hangul fillers, braille blank.
INVISIBLE = frozenset("\u200b\u2060\ufeff\u180e\u115f\u1160\u3164\uffa0\u2800")
_SHOWN = ("L", "N", "P", "S")  # letters, numbers, punctuation, symbols (emoji are symbols)


# Control characters (line breaks among them) and the Unicode line and paragraph separators
# (U+2028, U+2029), where mail readers, browsers and ``str.splitlines`` break the line too.
_LINE_BREAKING = frozenset(("Cc", "Zl", "Zp"))


def is_one_line(text: str) -> bool:
    return not any(unicodedata.category(c) in _LINE_BREAKING or c in BIDI_CONTROLS for c in text)


def one_line(text: str) -> str:
    """``text`` shown on one line (mail, where a name stored before names were checked may
    still hold a line break or a Unicode line or paragraph separator): every character
    :func:`is_one_line` refuses becomes a space, and each run of spaces one."""
    return " ".join("".join(c if is_one_line(c) else " " for c in str(text)).split())


# Format characters (category Cf) show as nothing (a soft hyphen, U+2061-2064, tag characters),
# except the joiners of emoji sequences and Persian, and the prepended concatenation marks
# (Arabic number signs and the like, drawn over the digits that follow them).
_FORMAT_SHOWN = frozenset("\u200c\u200d\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2")
_FORMAT_SHOWN |= frozenset("\U000110bd\U000110cd")
# Tag characters are drawn only as an emoji flag's subdivision (England: black flag, g b e n g, end).
_EMOJI_TAG_SEQUENCE = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")


def reads_as_written(text: str) -> bool:
    """No invisible character, and at least one that shows."""
    if any(c in INVISIBLE for c in text):
        return False
    rest = _EMOJI_TAG_SEQUENCE.sub("\U0001f3f4", text)
    if any(c == "\u034f" or (unicodedata.category(c) == "Cf" and c not in _FORMAT_SHOWN) for c in rest):
        return False  # U+034F combining grapheme joiner: a mark that marks nothing
    return any(unicodedata.category(c).startswith(_SHOWN) for c in text)


INVISIBLE_MESSAGE = "{what} must show what it says: no zero-width or other invisible characters"


def clean_name(value: str | None, *, what: str = "Name", max_length: int = 100, field: str = "name") -> str:
    """``value`` stripped, or :class:`InvalidInput` naming ``field``: required, at most
    ``max_length`` characters, one line without control or text-direction characters, and no
    live secret of this deployment (an API key, a SCIM token): a name is in audit entries,
    lists and mails that others read (SPEC §2), so one holding a secret is refused, never echoed."""
    name = (value or "").strip()
    if not name:
        raise InvalidInput(f"{what} is required", field=field)
    if len(name) > max_length:
        raise InvalidInput(f"{what} must be at most {max_length} characters", field=field)
    if not is_one_line(name):
        raise InvalidInput(
            f"{what} must be one line of text, without control or text-direction characters", field=field
        )
    if not reads_as_written(name):
        raise InvalidInput(INVISIBLE_MESSAGE.format(what=what), field=field)
    if holds_secret(name):
        raise HoldsSecret(
            f"{what} holds an API key or SCIM token: names are shown in lists and the audit log", field=field
        )
    return name
