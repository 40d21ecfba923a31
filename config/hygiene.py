"""Limits and character rules for what a request may carry, in one place.

The request-hygiene middleware applies them to paths, query strings and headers, the strict
JSON parser to bodies. A NUL byte that got past them would reach PostgreSQL, which refuses it
with an error Django reports as a 500.
"""

import re

# A query string longer than this is a mistake or an attack: the longest legitimate one (every
# filter with 20 slugs) stays well below it.
MAX_QUERY_STRING_CHARS = 4096
MAX_QUERY_PARAMETERS = 64
MAX_JSON_BODY_BYTES = 256 * 1024
MAX_JSON_DEPTH = 32
# Longer numerals in JSON are refused before Python converts them (quadratic in length).
MAX_JSON_NUMBER_CHARS = 100

# URLs carry no whitespace control characters at all; C1 controls are included because
# percent-decoding can produce them.
URL_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")
# Header values reach us as latin-1 decoded bytes, so bytes 0x80-0x9f may be parts of UTF-8
# characters; a tab is legal folding whitespace.
HEADER_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
# Text in bodies follows the rule of every text of ours: formulary.common.text.
