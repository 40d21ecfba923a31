"""Which characters a text of ours may hold: one rule for API bodies and spreadsheet cells.

A NUL byte that got past it would reach PostgreSQL, which refuses it with an error Django
reports as a 500; other control characters are invisible in the admin and in exports.
"""

import re

# Text may hold line breaks and tabs (multi-line notes), nothing else below space.
TEXT_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
