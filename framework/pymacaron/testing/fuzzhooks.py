"""schemathesis hooks ``pym fuzz`` loads (``SCHEMATHESIS_HOOKS``): what HTTP itself does
to a request, told to the fuzzer so its data checks judge what the server really got.

A header value's leading and trailing spaces and tabs are optional whitespace (RFC 9110
5.5): every HTTP stack strips them before the server reads the value, so a generated
value that has them is another value on arrival (``"ab "`` with ``maxLength: 2`` is
valid there); such header sets are not sent.
"""

from __future__ import annotations

import schemathesis


def untrimmed(headers) -> bool:
    """True when no generated header value starts or ends with a space or a tab."""
    return not any(isinstance(v, str) and v != v.strip(" \t") for v in (headers or {}).values())


@schemathesis.hook
def filter_headers(context, headers) -> bool:
    return untrimmed(headers)
