"""``pym mock``: serve the specs before handlers exist (run/mock.py builds the app)."""

from __future__ import annotations

import argparse
import os

__all__ = ["add_commands", "cmd_mock"]


def cmd_mock(args) -> int:
    from ..run.mock import cmd_mock as serve_mock

    return serve_mock(args)


def add_commands(sub) -> None:
    p = sub.add_parser(
        "mock",
        help="serve the service's specs before handlers exist: example replies, else "
        "generated from the schemas (validated like real replies)",
        epilog="exit codes: 0 stopped; 2 on a startup error (a spec that does not load)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--examples", action="store_true", help="reply with the specs' examples only")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8080)))
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--env", help="PYM_ENV whose pym-config to read")
    p.add_argument("--dir", default=".", help="service directory (default: .)")
    p.set_defaults(func=cmd_mock)
