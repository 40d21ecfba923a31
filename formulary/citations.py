"""Short in-text citations ("Bannai 2012") for sentences that name their source."""

import re

from formulary.models import Reference

# "Bannai M, Kawai N. ..." / "de Baaij JHF, ..." / "Gundersen et al. ...": a surname of
# one or more words (a lower-case particle allowed), then the initials or "et al.".
FIRST_AUTHOR = re.compile(
    r"^((?:[a-z]+ )?[A-Z][\w'\-]+(?: [A-Z][a-z][\w'\-]*)*)(?: [A-Z]{1,4}[,.]| et al\.)"
)
YEAR = re.compile(r"\b(19|20)\d{2}\b")


def short_citation(reference: Reference) -> str:
    """First author and year from the citation; the reference key where either is missing."""
    author = FIRST_AUTHOR.match(reference.citation)
    year = YEAR.search(reference.citation)
    if author and year:
        return f"{author.group(1)} {year.group(0)}"
    return reference.key
