"""Package layout (the metadata is in pyproject.toml): the runtime from framework/, the deploy
kit `pymacaron_kit` from infra/, its Dockerfile and server configs from docker/."""

from setuptools import find_packages, setup

RUNTIME = find_packages("framework")
KIT = ["pymacaron_kit"] + [f"pymacaron_kit.{p}" for p in find_packages("infra")]

setup(
    packages=[*RUNTIME, *KIT, "pymacaron_kit.docker"],
    package_dir={"": "framework", "pymacaron_kit": "infra", "pymacaron_kit.docker": "docker"},
)
