"""``pym image build|run|push|promote``: the four commands, one module each.

- build (image_build.py): the kit's Dockerfile with the service's repository as context;
- run (image_run.py): the image started as Beanstalk would, waited for on /ping;
- push (image_push.py): to any registry, or ECR with credentials from boto3; a tag the
  registry already has is not pushed again;
- promote (image_promote.py): the tested image's manifest stored again as ``live-<tag>``;
- where a registry is and what it holds: registries.py.

This module keeps the names the CLI and services import (``pymacaron_kit.release.image``).
"""

from __future__ import annotations

from ..names import IMAGE_TAG as TAG
from . import common as rel  # noqa: F401 - the helpers every command shares
from .image_build import (
    BUILD_DIR,
    DOCKERFILE,
    KIT_FILES,
    SERVICE_LOCK,
    build,
    build_args,
    ignore_patterns,
    make_context,
    service_lock,
)
from .image_promote import (
    ECR_TAG_EXISTS,
    LIVE,
    check_version_tag,
    promote,
    promote_ecr,
    promote_registry,
)
from .image_push import DIGEST, classify, exists, push
from .image_run import CONTAINER_PORT, RUN_LABEL, container_env, logs_tail, run, wait_for_ping
from .registries import (
    MANIFEST_TYPES,
    ecr_client,
    ecr_credentials,
    ecr_digest,
    ecr_error,
    ecr_repository_from_stack,
    registry_url,
    remote_digest,
    resolve_registry,
    v2_digest,
)

__all__ = [
    "BUILD_DIR",
    "CONTAINER_PORT",
    "DIGEST",
    "DOCKERFILE",
    "ECR_TAG_EXISTS",
    "KIT_FILES",
    "LIVE",
    "MANIFEST_TYPES",
    "RUN_LABEL",
    "SERVICE_LOCK",
    "TAG",
    "build",
    "build_args",
    "check_version_tag",
    "classify",
    "container_env",
    "ecr_client",
    "ecr_credentials",
    "ecr_digest",
    "ecr_error",
    "ecr_repository_from_stack",
    "exists",
    "ignore_patterns",
    "logs_tail",
    "make_context",
    "promote",
    "promote_ecr",
    "promote_registry",
    "push",
    "registry_url",
    "remote_digest",
    "resolve_registry",
    "run",
    "service_lock",
    "v2_digest",
    "wait_for_ping",
]
