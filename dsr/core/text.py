"""Text as people type it and as it is searched: case, accents and apostrophes folded."""

from __future__ import annotations

import re
import unicodedata

# Apostrophes and the marks typed for them: ’ ‘ ʼ ` ´ and the plain one.
_APOSTROPHES = re.compile(r"['\u2019\u2018\u02bc`\u00b4]")
# Anything else that is not a letter or digit separates words (hyphens, commas, dots).
_SEPARATORS = re.compile(r"[^\w]+|_")


def fold(text: str) -> str:
    """Lower case, accents removed, apostrophes dropped: "Siân O’Núñez" -> "sian onunez".

    "ß" becomes "ss" and ligatures split (casefold, NFKD), so the folded form of a name
    matches what someone types without the keys for its accents.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _APOSTROPHES.sub("", bare)


def words(text: str) -> list[str]:
    """The folded words of a name or a search: separators (spaces, hyphens, commas) split."""
    return [w for w in _SEPARATORS.split(fold(text)) if w]


def search_key(*names: str) -> str:
    """What a record is found by: its names' folded words, each preceded by a space, so that
    a word typed matches the start of a word (`LIKE '% sia%'`): "sian" finds Siân, not
    Christian. A name with an apostrophe is kept both ways, "obrien" and "o brien"."""
    found: list[str] = []
    for name in names:
        found += words(name)
        if _APOSTROPHES.search(name):
            found += [w for w in words(_APOSTROPHES.sub(" ", name)) if w not in found]
    return "".join(f" {word}" for word in found)


def ascii_digits(value: str) -> bool:
    """Only 0-9 are digits here. `str.isdigit()` also accepts "٣" and "³": the first is
    another spelling of a number (a second record under the same NHS number), the second
    fails in `int()` (a 500)."""
    return value.isascii() and value.isdigit()


def the(name: str) -> str:
    """A field's name after "Enter" or "Select": "the given name", but "your name" (a
    review read "Enter the your name" on the public form)."""
    lowered = name.lower()
    return lowered if lowered.startswith(("your ", "their ")) else f"the {lowered}"
