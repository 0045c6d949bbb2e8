"""What a spec declares about security, read once at startup (no Flask, no I/O).

Swagger 2.0 ``securityDefinitions`` and OpenAPI 3.x ``components.securitySchemes`` become
:class:`Scheme` records; an operation's ``security`` (else the document's) becomes a list
of alternatives (OR), each a list of ``(scheme, scopes)`` pairs (AND). ``security: []``
opts out; an empty requirement object ``{}`` makes authentication optional.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Scheme", "schemes_of", "requirements_of", "SchemeError"]


class SchemeError(ValueError):
    """A requirement names an undeclared scheme, or a scheme is malformed."""


@dataclass(frozen=True)
class Scheme:
    """One declared security scheme.

    ``kind``: ``bearer`` (http bearer, or a 2.0 apiKey in ``Authorization``), ``basic``,
    ``apikey``, ``oauth2``, ``oidc`` or ``other`` (digest, mutualTLS...). ``where`` and
    ``param`` say where an apiKey travels (header, query, cookie; its name).
    """

    name: str
    kind: str
    where: str | None
    param: str | None
    raw: dict

    @property
    def description(self) -> str:
        if self.kind == "apikey":
            return f"apiKey in {self.where} {self.param!r}"
        t = self.raw.get("type")
        if t == "http":
            return f"http {self.raw.get('scheme')}"
        if t == "apiKey":
            return f"apiKey in {self.where} {self.param!r} (used as a bearer token)"
        return str(t)

    def x(self, name: str):
        return self.raw.get(f"x-{name}")


def _resolve(node, document: dict):
    """A local ``$ref`` (``#/components/securitySchemes/x``) resolved, else the node."""
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 8:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return node
        target = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        node = target
        seen += 1
    return node


def _scheme(name: str, raw: dict) -> Scheme:
    t = raw.get("type")
    if t == "apiKey":
        where, param = raw.get("in"), raw.get("name")
        if where == "header" and isinstance(param, str) and param.lower() == "authorization":
            return Scheme(name, "bearer", where, param, raw)
        return Scheme(name, "apikey", where, param, raw)
    if t == "http":
        scheme = str(raw.get("scheme") or "").lower()
        kind = scheme if scheme in ("bearer", "basic") else "other"
        return Scheme(name, kind, "header", "Authorization", raw)
    if t == "basic":  # Swagger 2.0
        return Scheme(name, "basic", "header", "Authorization", raw)
    if t == "oauth2":
        return Scheme(name, "oauth2", "header", "Authorization", raw)
    if t == "openIdConnect":
        return Scheme(name, "oidc", "header", "Authorization", raw)
    return Scheme(name, "other", None, None, raw)


def schemes_of(document: dict, dialect: str) -> dict[str, Scheme]:
    """The declared schemes of a spec document, by name."""
    if dialect == "swagger2":
        declared = document.get("securityDefinitions") or {}
    else:
        declared = (document.get("components") or {}).get("securitySchemes") or {}
    out = {}
    for name, raw in declared.items():
        raw = _resolve(raw, document)
        if not isinstance(raw, dict):
            raise SchemeError(f"security scheme {name!r} is not an object")
        out[name] = _scheme(str(name), raw)
    return out


def requirements_of(
    operation: dict, document: dict, schemes: dict[str, Scheme]
) -> list[list[tuple[Scheme, tuple[str, ...]]]]:
    """The operation's security alternatives: ``[]`` when it declares none (or opts out)."""
    declared = operation["security"] if "security" in operation else document.get("security")
    if not declared:
        return []
    if not isinstance(declared, list):
        raise SchemeError("'security' must be a list of requirement objects")
    out = []
    for requirement in declared:
        if not isinstance(requirement, dict):
            raise SchemeError("'security' must be a list of requirement objects")
        alternative = []
        for name, scopes in requirement.items():
            scheme = schemes.get(name)
            if scheme is None:
                raise SchemeError(f"security requirement names {name!r}, which is not declared")
            if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
                raise SchemeError(f"security requirement {name!r}: expected a list of scopes")
            alternative.append((scheme, tuple(scopes)))
        out.append(alternative)
    return out
