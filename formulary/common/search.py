"""A search key that forgives case and accents, computed in Python so every database agrees.

PostgreSQL's unaccent is an extension SQLite lacks; storing the folded text beside the row
and folding the query the same way gives one behaviour everywhere.
"""

import unicodedata

SEPARATOR = "|"


def fold(text: str) -> str:
    """Lower case without accents: "Omeprazol", "oméprazol" and "OMEPRAZOL" fold alike."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(stripped.casefold().split())


def search_key(*texts: str) -> str:
    """The folded texts joined by a separator no query contains, so a match stays in one text."""
    return SEPARATOR + SEPARATOR.join(fold(text) for text in texts if text) + SEPARATOR
