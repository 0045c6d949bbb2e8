"""Installing a service on its Flask app: one route per spec operation, the error handlers,
and the WSGI layers (layers.py) around ``Flask.wsgi_app``, once per app."""

from __future__ import annotations

import logging
import re

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from ..exceptions import StartupError
from ..spec.yamlfile import display_path
from .docs import install_docs
from .layers import wrap
from .operation import Operation, flask_rule
from .replies import exception_reply

log = logging.getLogger("pymacaron")

__all__ = ["install"]


class LazyBuildRule(Rule):
    """A werkzeug rule whose two URL builders (``url_for``) are generated on first use, not
    when the rule is added: matching never needs them, and a big spec has thousands."""

    def _compile_builder(self, append_unknown: bool = True):
        compiled = None

        def build(rule, *args, **kwargs):
            nonlocal compiled
            if compiled is None:
                compiled = Rule._compile_builder(rule, append_unknown).__get__(rule, None)
            return compiled(*args, **kwargs)

        return build


def install(app: Flask, apis: list, conf, middleware=()) -> None:
    """Add one Flask route per operation of ``apis``, the error handlers and the layers
    (with the user's ``middleware``, layers.py)."""
    routes: dict[tuple[str, str], str] = {}
    app.url_map.strict_slashes = False
    if app.url_rule_class is Rule:
        app.url_rule_class = LazyBuildRule
    for api in apis:
        base = "" if (conf.ignore_base_path or api.builtin) else api.spec.base_path
        declared: dict[str, set[str]] = {}
        for op_spec in api.spec.operations:
            declared.setdefault(op_spec.path, set()).add(op_spec.method)
        # a spec's own HEAD and OPTIONS first: werkzeug adds HEAD to a GET rule and Flask
        # answers OPTIONS itself on the first rule of a path that matches
        ordered = sorted(
            api.spec.operations, key=lambda o: 0 if o.method in ("head", "options") else 1
        )
        for op_spec in ordered:
            if op_spec.x("no-bind-server"):
                continue
            rule, _ = flask_rule(base + op_spec.path)
            key = (op_spec.method, _normal(rule))
            where = f"{display_path(api.spec.path)}: {op_spec.label}"
            if key in routes:
                raise StartupError(
                    f"duplicate route {op_spec.method.upper()} {base}{op_spec.path}: "
                    f"also served by {routes[key]}",
                    file=display_path(api.spec.path),
                    location=op_spec.label,
                )
            routes[key] = where
            operation = Operation(op_spec, api.spec, api.json_definitions, api.models, conf)
            methods = declared[op_spec.path]
            app.add_url_rule(
                rule,
                endpoint=operation.endpoint,
                view_func=operation,
                methods=[op_spec.method.upper()],
                provide_automatic_options=False if "options" in methods else None,
            )
            if op_spec.method == "get" and "head" in methods:
                # the spec's HEAD operation answers HEAD, not this GET rule
                app.url_map._rules_by_endpoint[operation.endpoint][-1].methods.discard("HEAD")
    install_docs(app, apis, conf)  # /openapi.json, /swagger.json, /docs
    app.config["MAX_CONTENT_LENGTH"] = conf.max_body_size
    if not getattr(app, "_pymacaron_installed", False):
        app.register_error_handler(HTTPException, exception_reply)
        app.register_error_handler(Exception, exception_reply)
        app.wsgi_app = wrap(app, conf, middleware=middleware)
        app._pymacaron_installed = True
    log.info(
        "serving %s on %d routes (pym_env=%s)",
        ", ".join(a.name for a in apis),
        len(routes),
        conf.pym_env,
    )


def _normal(rule: str) -> str:
    """Routes that differ only by variable names are the same route."""
    return re.sub(r"<p\d+>", "<>", rule)
