"""The one error -> exit-code map of every ``pym`` command.

A handler either returns its exit code or raises; what it raises is looked up in
:data:`ERRORS` (first matching row, by class or base class), which gives the exit code and
the one line printed on stderr -- never a traceback (``pym --debug`` adds one). Each
command's ``--help`` lists the codes it uses (:func:`exit_codes` writes that epilog), all
from the ``EXIT_*`` below. The kit's classes are named by dotted path, so this table
needs neither the kit installed nor imported.
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and failed (a build, a check, a stage not deployed)
EXIT_USAGE = 2  # usage or pym-config error (one line naming the file and key)
EXIT_NO_ENGINE = 3  # no container engine reachable (image commands)
EXIT_REFUSED = 4  # AWS or the registry refused (auth, TLS, unreachable)
EXIT_INTERRUPTED = 130  # Ctrl-C

# what each code means, in a --help epilog
MEANING = {
    EXIT_OK: "done",
    EXIT_FAILED: "failed",
    EXIT_USAGE: "usage",
    EXIT_NO_ENGINE: "no container engine",
    EXIT_REFUSED: "AWS or the registry refused",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}

# ``pym acceptance`` runs pytest: its exit code said in this table's words (pytest's own 2, 3
# and 4 -- interrupted, internal error, usage error -- would otherwise mean ours: usage, no
# container engine, AWS refused). Any other code of pytest's: failed.
FROM_PYTEST = {
    0: EXIT_OK,  # every test passed
    1: EXIT_FAILED,  # a test failed
    2: EXIT_INTERRUPTED,  # interrupted
    3: EXIT_FAILED,  # pytest's internal error
    4: EXIT_USAGE,  # pytest's usage error (a bad pytest argument after --)
    5: EXIT_FAILED,  # no test collected
    6: EXIT_FAILED,  # too many warnings (--max-warnings)
}


def from_pytest(code: int) -> int:
    """pytest's exit ``code`` as one of the EXIT_* (:data:`FROM_PYTEST`)."""
    return FROM_PYTEST.get(code, EXIT_FAILED)


FROM_ERROR = -1  # the exception carries its own code (``.code``, one of the EXIT_*)


class KitMissing(Exception):
    """A deploy-kit command run where only the runtime is installed."""

    def __init__(self, command: str):
        from .. import __version__

        super().__init__(
            f"part of the deploy kit, not installed here: pip install 'pymacaron[kit]=={__version__}'"
        )
        self.command = command


@dataclass(frozen=True)
class Row:
    error: str  # module.Class; subclasses match too
    code: int  # an EXIT_* or FROM_ERROR
    line: str  # format: {who} "pym <command>" (or the command's own), {path} "image build", {error}
    stops: bool = False  # ``pym`` ends the process (SystemExit) instead of returning the code


# First match wins: a subclass before its base (NotFound and Refused are StartupErrors).
ERRORS: tuple[Row, ...] = (
    Row("pymacaron.commands.errors.KitMissing", EXIT_USAGE, "{who}: {error}"),
    Row("pymacaron_kit.operate.errors.NotFound", EXIT_FAILED, "{who}: {error}"),
    Row("pymacaron_kit.operate.errors.Refused", EXIT_FAILED, "{who}: {error}"),
    Row("pymacaron_kit.release.common.ReleaseError", FROM_ERROR, "{path}: error: {error}"),
    Row("pymacaron.testing.runner.AcceptanceError", EXIT_USAGE, "{path}: {error}"),
    # a bad option, pym-config key or spec; for run and check: the server cannot start
    Row("pymacaron.exceptions.StartupError", EXIT_USAGE, "{who}: {error}", stops=True),
    Row("builtins.KeyboardInterrupt", EXIT_INTERRUPTED, "{path}: interrupted"),
)


def _names(error: BaseException) -> list[str]:
    return [f"{c.__module__}.{c.__qualname__}" for c in type(error).__mro__]


def row_for(error: BaseException) -> Row | None:
    """The row of ``error``'s class (or of its nearest base in the table), else None."""
    names = _names(error)
    for row in ERRORS:
        if row.error in names:
            return row
    return None


def code_of(error: BaseException, row: Row) -> int:
    return getattr(error, "code", EXIT_FAILED) if row.code == FROM_ERROR else row.code


def report(error: BaseException, row: Row, path: str, who: str, debug: bool = False) -> int:
    """Print ``error`` as its row says (one line on stderr) and return its exit code."""
    if debug:
        traceback.print_exc()
    print(row.line.format(who=who, path=path, error=error), file=sys.stderr)
    return code_of(error, row)


def codes_of(*errors: str) -> set[int]:
    """The exit codes the given rows (by class path) can give (FROM_ERROR: any EXIT_*)."""
    out: set[int] = set()
    for row in ERRORS:
        if row.error in errors:
            out |= set(MEANING) - {EXIT_OK} if row.code == FROM_ERROR else {row.code}
    return out


def exit_codes(*pairs: tuple[int, str]) -> str:
    """A --help epilog: ``exit codes: 0 done, 1 failed, ...`` from (EXIT_*, meaning) pairs."""
    return "exit codes: " + ", ".join(f"{code} {meaning}" for code, meaning in pairs)
