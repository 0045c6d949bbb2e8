"""Files the kit ships beside its code: the Dockerfile and server configs (docker/ in the
source tree, ``pymacaron_kit/docker`` in the wheel) and the ``pym new`` templates."""

from __future__ import annotations

import os

HERE = os.path.dirname(os.path.abspath(__file__))


def docker_dir() -> str:
    """The directory holding the Dockerfile, gunicorn.conf.py and the runtime locks."""
    for candidate in (os.path.join(HERE, "docker"), os.path.join(os.path.dirname(HERE), "docker")):
        if os.path.isfile(os.path.join(candidate, "Dockerfile")):
            return candidate
    raise FileNotFoundError(f"the kit's Dockerfile is missing (looked beside {HERE})")


def docker_file(name: str) -> str:
    return os.path.join(docker_dir(), name)


def templates_dir(name: str = "new") -> str:
    return os.path.join(HERE, "templates", name)
