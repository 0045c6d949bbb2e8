"""Package layout (the metadata is in pyproject.toml): the runtime from framework/, the deploy
kit `pymacaron_kit` from infra/, its Dockerfile and server configs from docker/. The guides of
docs/ (not pymacaron's design records) go into the runtime as `pymacaron/guides/*.md`, read
by `pym docs`."""

import glob
import os
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

RUNTIME = find_packages("framework")
KIT = ["pymacaron_kit"] + [f"pymacaron_kit.{p}" for p in find_packages("infra")]
HERE = os.path.dirname(os.path.abspath(__file__))
NOT_GUIDES = {"architecture.md", "decisions.md"}  # as framework/pymacaron/guides.py


class BuildWithGuides(build_py):
    """build_py, plus docs/*.md copied to pymacaron/guides/ in the build."""

    def run(self):
        super().run()
        if self.editable_mode:  # an editable install reads docs/ itself (guides.py)
            return
        target = os.path.join(self.build_lib, "pymacaron", "guides")
        os.makedirs(target, exist_ok=True)
        for path in sorted(glob.glob(os.path.join(HERE, "docs", "*.md"))):
            if os.path.basename(path) not in NOT_GUIDES:
                shutil.copy2(path, target)  # its mtime kept: the same tree, the same wheel


setup(
    packages=[*RUNTIME, *KIT, "pymacaron_kit.docker"],
    package_dir={"": "framework", "pymacaron_kit": "infra", "pymacaron_kit.docker": "docker"},
    cmdclass={"build_py": BuildWithGuides},
)
