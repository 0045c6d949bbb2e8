"""OpenAPI 3 parameter styles, both directions, from one table (no Flask here).

A value is carried as strings in one of three shapes: ``"primitive"`` (a str),
``"array"`` (a list of str) or ``"object"`` (a list of (key, str) pairs). :func:`encode`
writes a shape as the wire text of a style/explode combination, :func:`decode` reads it
back; the server parses with :func:`decode`, the client serialises with :func:`encode`,
and both read the same :data:`IN_STRING` / :data:`DELIMITERS` tables.

Where the value lives decides the wire form:

- ``path`` and ``header`` (simple, label, matrix): one string. Path segments arrive
  percent-decoded from WSGI, so a path value holding its style's separators is ambiguous
  (as in every WSGI framework); the client still encodes them.
- ``query`` and ``cookie`` (form, spaceDelimited, pipeDelimited, deepObject): the
  (name, raw value) pairs of the query string or Cookie header. Raw values are split on
  the separator *before* percent-decoding, so ``a%2Cb,c`` is ``["a,b", "c"]`` -- unless
  the value has no raw separator at all (a client that encoded everything, as requests'
  ``params`` does): ``a%2Cb`` is ``["a", "b"]``.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, unquote_plus

__all__ = [
    "StyleError",
    "encode",
    "decode",
    "parse_query",
    "parse_cookies",
    "query_string",
    "cookie_header",
    "quote_value",
    "unquote_value",
    "IN_STRING",
    "DELIMITERS",
    "STYLES_BY_LOCATION",
    "default_style",
]


class StyleError(ValueError):
    """Wire text that does not have the shape its style says."""


# simple, label, matrix: (lead of a named value, lead of an exploded pair, joiner of
# exploded parts). Non-exploded: lead + ",".join(parts); exploded arrays: joiner.join(
# lead + item); exploded objects: joiner.join(pair_lead + "k=v").
IN_STRING = {
    "simple": ("", "", ","),
    "label": (".", ".", ""),
    "matrix": (";{name}=", ";", ""),
}
# form-like styles: the separator of a non-exploded value in its one query pair
DELIMITERS = {"form": ",", "spaceDelimited": " ", "pipeDelimited": "|"}
#: THE style table: the styles each location allows (OpenAPI 3.x, "Style Values"), the
#: first one its default. The spec loader (openapi3.py) refuses what is not here, and
#: encode/decode below handle each; a new style goes here and in IN_STRING / DELIMITERS.
STYLES_BY_LOCATION = {
    "path": ("simple", "label", "matrix"),
    "query": ("form", "spaceDelimited", "pipeDelimited", "deepObject"),
    "header": ("simple",),
    "cookie": ("form",),
}
DEFAULT_STYLE = {location: styles[0] for location, styles in STYLES_BY_LOCATION.items()}
# what a separator looks like once percent-encoded by a client
_ENCODED_SEPARATOR = {" ": ("%20", "+"), "|": ("%7C", "%7c")}
_RESERVED = ":/?[]@!$'()*,;"  # allowReserved: sent as they are (& = # + stay encoded)


def default_style(location: str) -> tuple[str, bool]:
    """The style and explode a parameter has when the spec says nothing."""
    style = DEFAULT_STYLE[location]
    return style, style == "form"


def quote_value(text: str, allow_reserved: bool = False) -> str:
    """Percent-encode one data part (every separator of every style included)."""
    return quote(text, safe=_RESERVED if allow_reserved else "")


def unquote_value(text: str, plus: bool = True) -> str:
    return unquote_plus(text) if plus else unquote(text)


# -- in-string styles: simple, label, matrix -----------------------------------------------
def _lead(style: str, name: str) -> str:
    return IN_STRING[style][0].replace("{name}", name)


def _encode_in_string(style, explode, name, shape, value, q) -> str:
    lead = _lead(style, name)
    _, pair_lead, joiner = IN_STRING[style]
    if shape == "primitive":
        if style == "matrix" and value == "":
            return f";{name}"
        return lead + q(value)
    if shape == "array":
        if not explode:
            return lead + ",".join(q(v) for v in value)
        return joiner.join(lead + q(v) for v in value)
    if not explode:
        return lead + ",".join(q(k) + "," + q(v) for k, v in value)
    return joiner.join(pair_lead + q(k) + "=" + q(v) for k, v in value)


def _split_exploded(style, name, text: str, lead: str) -> list[str]:
    """The parts of an exploded label/matrix value, each without its lead."""
    if style == "simple":
        return text.split(",") if text != "" else []
    if not text.startswith(lead[0]):
        raise StyleError(f"expected {style} style (starting with {lead[0]!r}), got {text[:40]!r}")
    return text[1:].split(lead[0]) if text != lead[0] else []


def _pairs(parts: list[str], u) -> list[tuple[str, str]]:
    if len(parts) % 2:
        raise StyleError(f"expected key,value pairs, got an odd number of parts ({len(parts)})")
    return [(u(parts[i]), u(parts[i + 1])) for i in range(0, len(parts), 2)]


def _kv(part: str, u) -> tuple[str, str]:
    key, eq, value = part.partition("=")
    if not eq:
        raise StyleError(f"expected key=value, got {part[:40]!r}")
    return u(key), u(value)


def _decode_in_string(style, explode, name, shape, text: str, u):
    lead = _lead(style, name)
    if shape == "primitive" or not explode:
        if style == "matrix" and text == f";{name}":
            body = ""
        elif (
            style == "matrix"
            and shape != "primitive"
            and text.startswith(";")
            and (not text.startswith(lead))
        ):
            body = text[1:]  # ';3,4,5': schemathesis' form of a non-exploded matrix value
        elif not text.startswith(lead):
            raise StyleError(
                f"expected {style} style ({lead or 'no prefix'}...), got {text[:40]!r}"
            )
        else:
            body = text[len(lead) :]
        if shape == "primitive":
            return u(body)
        parts = body.split(",") if body != "" else []
        return [u(p) for p in parts] if shape == "array" else _pairs(parts, u)
    if shape == "array":
        if style == "matrix":
            if text == "":
                return []
            prefix = f"{name}="
            out = []
            for part in _split_exploded(style, name, text, lead):
                if part == name:
                    out.append("")
                elif part.startswith(prefix):
                    out.append(u(part[len(prefix) :]))
                else:
                    raise StyleError(f"expected ';{name}=...' parts, got {part[:40]!r}")
            return out
        return [u(p) for p in _split_exploded(style, name, text, lead)]
    if style == "matrix" and text == "":
        return []
    return [
        _kv(p, u) for p in _split_exploded(style, name, text, ";" if style == "matrix" else lead)
    ]


# -- form-like styles: form, spaceDelimited, pipeDelimited, deepObject --------------------
def _encode_pairs(style, explode, name, shape, value, q) -> list[tuple[str, str]]:
    if style == "deepObject":
        return [(f"{name}[{k}]", q(v)) for k, v in value]
    sep = DELIMITERS[style]
    wire_sep = "%20" if sep == " " else sep
    if shape == "primitive":
        return [(name, q(value))]
    if shape == "array":
        if explode:
            return [(name, q(v)) for v in value]
        return [(name, wire_sep.join(q(v) for v in value))]
    if explode:
        return [(k, q(v)) for k, v in value]
    return [(name, wire_sep.join(q(k) + wire_sep + q(v) for k, v in value))]


def _split_raw(raw: str, sep: str, u) -> list[str]:
    """A delimited value's parts. A raw comma separates and ``%2C`` is data (RFC 3986, as
    OpenAPI 3.1.1 and pymacaron's client write it); a value with no raw comma but encoded
    ones comes from a client that encoded its separators too (requests' ``params``,
    schemathesis): it is split after decoding. An encoded space or pipe always separates."""
    if raw == "":
        return []
    if sep == "," and "," in raw:
        return [u(p) for p in raw.split(",")]
    return u(raw).split(sep)


def _decode_pairs(style, explode, name, shape, source, u, keys=None):
    """``source``: name -> list of raw values; ``keys``: see :func:`decode`."""
    if style == "deepObject":
        prefix = name + "["
        out = [
            (k[len(prefix) : -1], u(vs[-1]))
            for k, vs in source.items()
            if k.startswith(prefix) and k.endswith("]")
        ]
        return out if out else None
    if shape == "object" and explode:
        out = [(k, u(vs[-1])) for k, vs in source.items() if (k in keys if keys else True)]
        return out if out else None
    values = source.get(name)
    if values is None:
        return None
    sep = DELIMITERS[style]
    if shape == "primitive":
        return u(values[0])
    if shape == "array":
        if explode:
            return [u(v) for v in values]
        return _split_raw(values[0], sep, u)
    parts = _split_raw(values[0], sep, u)
    if len(parts) % 2:
        raise StyleError(f"expected key{sep}value pairs, got an odd number of parts ({len(parts)})")
    return [(parts[i], parts[i + 1]) for i in range(0, len(parts), 2)]


# -- the two directions --------------------------------------------------------------------
def encode(location, style, explode, name, shape, value, allow_reserved=False):
    """Wire form of ``value`` (a shape of strings): a string for path and header, a list of
    (name, raw value) pairs for query and cookie. Data parts are percent-encoded, except in
    headers (sent as they are)."""
    if location == "header":
        q = str
    else:

        def q(text):
            return quote_value(text, allow_reserved)

    if location in ("path", "header"):
        return _encode_in_string(style, explode, name, shape, value, q)
    return _encode_pairs(style, explode, name, shape, value, q)


def decode(location, style, explode, name, shape, source, keys=None):
    """The shape of strings carried by ``source``: the text (path: already decoded by
    WSGI; header: as sent) or the raw pairs (query, cookie: ``name -> [raw values]``);
    None when a query or cookie source does not carry the parameter. ``keys``: the
    property names an exploded form object reads (None: every key)."""
    if location in ("path", "header"):
        return _decode_in_string(style, explode, name, shape, source, _same)
    u = _unquote_plus if location == "query" else unquote
    return _decode_pairs(style, explode, name, shape, source, u, keys)


def _same(text: str) -> str:
    return text


def _unquote_plus(text: str) -> str:
    return unquote_plus(text) if ("%" in text or "+" in text) else text


def parse_query(query_string: bytes | str) -> dict[str, list[str]]:
    """``a=1&b=x%2Cy&a=2`` -> {"a": ["1", "2"], "b": ["x%2Cy"]}: names decoded, values raw
    (a style splits them before decoding)."""
    if isinstance(query_string, bytes):
        query_string = query_string.decode("utf-8", "replace")
    out: dict[str, list[str]] = {}
    if not query_string:
        return out
    for part in query_string.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        out.setdefault(_unquote_plus(key), []).append(value)
    return out


def parse_cookies(header: str | None) -> dict[str, list[str]]:
    """``a=1; b=2; a=3`` -> {"a": ["1", "3"], "b": ["2"]}, values raw (percent-encoded)."""
    out: dict[str, list[str]] = {}
    if not header:
        return out
    for part in header.split(";"):
        key, eq, value = part.strip().partition("=")
        if not eq or not key:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        out.setdefault(key.strip(), []).append(value)
    return out


def query_string(pairs) -> str:
    """The query string of (name, raw value) pairs from :func:`encode` (names encoded,
    deepObject's brackets kept readable)."""
    return "&".join(quote(k, safe="[]") + "=" + v for k, v in pairs)


def cookie_header(pairs) -> str:
    """The Cookie header of (name, raw value) pairs from :func:`encode`."""
    return "; ".join(f"{k}={v}" for k, v in pairs)
