"""``pym new NAME [--dir D]``: write a new service repository from the kit's templates.

The repository holds only the service's own files (spec, handlers, server, config, tests,
acceptance tests, CDK app, pinned requirements, README, Makefile); nothing of pymacaron's
source. NAME must be a Python identifier (the handler package) and a valid stack, Beanstalk
environment and ECR repository name: lowercase letters and digits, 2 to 23 characters (the
pipeline's environments are ``NAME-pipeline-staging``, at most 40).
"""

from __future__ import annotations

import keyword
import os
import re
import sys

from pymacaron import __version__
from pymacaron.exceptions import StartupError

from .package_data import templates_dir

NAME = re.compile(r"^[a-z][a-z0-9]{1,22}$")
# Names that would shadow what the service imports.
RESERVED = {"pymacaron", "pymacaron_kit", "server", "tests", "testaccept", "apis", "app",
            "flask", "test", "api", "infra", "aws_cdk", "yaml", "jwt"}  # fmt: skip
RENAMES = {"gitignore": ".gitignore"}


def check_name(name: str) -> None:
    if not NAME.match(name) or keyword.iskeyword(name) or name in sys.stdlib_module_names:
        raise StartupError(
            f"NAME {name!r}: expected 2 to 23 lowercase letters and digits starting with a "
            "letter (a Python package name, and a stack / ECR repository name), not a Python "
            "keyword or standard module"
        )
    if name in RESERVED:
        raise StartupError(f"NAME {name!r}: taken by a module the service imports; pick another")


def render(text: str, name: str) -> str:
    return text.replace("{{name}}", name).replace("{{version}}", __version__)


def files(name: str) -> dict[str, str]:
    """Relative path -> content of the new repository."""
    root = templates_dir("new")
    out = {}
    for base, _, names in os.walk(root):
        for fname in names:
            if not fname.endswith(".tmpl"):
                continue
            src = os.path.join(base, fname)
            rel = os.path.relpath(src, root)[: -len(".tmpl")].replace("__name__", name)
            rel = RENAMES.get(rel, rel)
            with open(src) as f:
                out[rel] = render(f.read(), name)
    return dict(sorted(out.items()))


def new_service(name: str, directory: str | None = None) -> str:
    check_name(name)
    target = os.path.abspath(directory or name)
    if os.path.exists(target) and (not os.path.isdir(target) or os.listdir(target)):
        raise StartupError(f"{target} exists and is not an empty directory: pick another --dir")
    content = files(name)
    for rel, text in content.items():
        path = os.path.join(target, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    from pymacaron.devsecret import ensure_dev_secret

    ensure_dev_secret(target)  # .pym/dev-secret: the development JWT_SECRET (git-ignored)
    print(f"wrote {len(content)} files to {target} (and .pym/dev-secret, git-ignored):")
    for rel in content:
        print(f"  {rel}")
    shown = os.path.relpath(target)
    print(f"\nnext:\n  cd {shown}\n  git init && git add -A && git commit -m '{name}: pym new'")
    print("  make test     # unit tests\n  make run      # http://127.0.0.1:8080/hello")
    print("  pym docs      # the guides (deploy, pipeline, persist, tasks...)")
    return target
