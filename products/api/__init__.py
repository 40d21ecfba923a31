"""Everything HTTP of the catalogue: list and detail, writes, match and advice."""
