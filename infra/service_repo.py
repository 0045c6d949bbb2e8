"""What the pipeline's steps call in the service's repository, checked at synth.

The install step installs ``requirements.txt`` (pymacaron pinned there), the unit-test step
runs ``pipeline.unit_tests`` (default ``python -m pytest -q tests``), the acceptance step the
repository's ``testaccept/``, fuzzing its ``apis/``, the image step its ``server.py``. A
repository missing one of them fails *synth*, naming what is missing, instead of a pipeline
step failing later (pytest's exit 5, "no tests ran").
"""

from __future__ import annotations

import os

from pymacaron.config import schema_default
from pymacaron.exceptions import StartupError
from pymacaron.spec.yamlfile import display_path

DEFAULT_UNIT_TESTS = schema_default("pipeline", "unit_tests")  # pym-config.schema.json
CHECKED = (
    ("server.py", "the image serves server:app (pym new writes one)"),
    ("apis", "pym fuzz tests the service against its specs in apis/"),
    ("testaccept", "the acceptance step runs testaccept/ against staging"),
    ("requirements.txt", "the install step runs pip install -r requirements.txt, which must "
     "name pymacaron[kit] (pym new pins it)"),
)  # fmt: skip


def check_service_repo(root: str, config_path: str, unit_tests: str | None) -> None:
    """Raise StartupError when the pipeline would call something the repository lacks."""
    root = os.path.abspath(root)
    shown = display_path(config_path)

    def missing(what: str, why: str, key: str = "pipeline") -> StartupError:
        return StartupError(
            f"{what} is missing in {root}: {why}", file=shown, location=f"key '{key}'"
        )

    if not unit_tests and not os.path.isdir(os.path.join(root, "tests")):
        raise missing(
            "tests/",
            f"the pipeline's unit-test step runs `{DEFAULT_UNIT_TESTS}` by default; add "
            "tests/ or set pipeline.unit_tests to your test command",
            "pipeline.unit_tests",
        )
    for name, why in CHECKED:
        if not os.path.exists(os.path.join(root, name)):
            raise missing(name, why)
    with open(os.path.join(root, "requirements.txt")) as f:
        if "pymacaron" not in f.read() and not _installs_this_checkout(root):
            raise missing("pymacaron in requirements.txt", CHECKED[-1][1])


def _installs_this_checkout(root: str) -> bool:
    """pymacaron's own repository installs itself (`-e .[kit]`)."""
    return os.path.isfile(os.path.join(root, "framework", "pymacaron", "__init__.py"))


def unit_test_command(raw_pipeline: dict | None) -> str:
    """The unit-test step's command from pym-config's raw ``pipeline:`` section."""
    return ((raw_pipeline or {}).get("unit_tests") or DEFAULT_UNIT_TESTS).strip()
