"""The IAM actions each ``pym`` command of a pipeline step needs, and a step's policy derived
from its commands (infra/pipeline_steps.py) so a role cannot drift from what its step runs.

``COMMAND_ACTIONS`` names, per command, every AWS API action its code calls (boto3) and, for
``image push``, the ECR registry-protocol actions ``docker push`` needs. The tests run each
command against moto with a botocore recorder and with IAM enforced (tests/infra,
tests/e2e/test_journey_deploy.py): a call missing here fails them.
"""

from __future__ import annotations

import re
import shlex

# Actions IAM cannot scope to a repository (resource "*").
UNSCOPED = frozenset({"ecr:GetAuthorizationToken"})

# docker push to ECR: the registry protocol's layer and manifest calls.
ECR_REGISTRY_PUSH = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)

# "pym <command>[ <flag>]" -> actions. A flag key applies when the command line has it.
COMMAND_ACTIONS: dict[str, tuple[str, ...]] = {
    # --unless-in: release/image.py exists() -> ecr_digest() -> DescribeImages
    "image build --unless-in": ("ecr:DescribeImages",),
    "image build": (),
    # ecr_credentials() -> GetAuthorizationToken; remote_digest() -> DescribeImages; then
    # the engine's push through the registry protocol
    "image push": ("ecr:GetAuthorizationToken", "ecr:DescribeImages", *ECR_REGISTRY_PUSH),
    # promote_ecr(): BatchGetImage, PutImage, DescribeImages (an existing live tag)
    "image promote": ("ecr:BatchGetImage", "ecr:PutImage", "ecr:DescribeImages"),
    # scan_gate.wait_for_scan(): DescribeImageScanFindings
    "image scan-gate": ("ecr:DescribeImageScanFindings",),
    # HTTP only (the service's URL), or offline
    "synth": (),
    "plan": (),
    "acceptance": (),
    "fuzz": (),
    "smoke": (),
}

PYM = re.compile(r"(?:^|[;&|]\s*|\bthen\s+)pym\s+([^;&|]+)")


def commands_of(line: str) -> list[list[str]]:
    """The ``pym`` invocations of one buildspec line, as argument lists (after ``pym``)."""
    return [shlex.split(m.group(1)) for m in PYM.finditer(line)]


def command_key(argv: list[str]) -> str:
    """``["image", "build", "--tag", "x"]`` -> ``"image build"`` (the table's key)."""
    words = []
    for word in argv:
        if word.startswith("-") or len(words) == 2:
            break
        words.append(word)
    key = " ".join(words)
    if key not in COMMAND_ACTIONS and words:
        key = words[0]
    return key


def actions_of(argv: list[str]) -> set[str]:
    """The actions one ``pym`` invocation needs; an unknown command is an error."""
    key = command_key(argv)
    if key not in COMMAND_ACTIONS:
        raise KeyError(f"pym {' '.join(argv)}: no entry in COMMAND_ACTIONS (infra/step_actions.py)")
    found = set(COMMAND_ACTIONS[key])
    for flag_key, actions in COMMAND_ACTIONS.items():
        base, _, flag = flag_key.rpartition(" ")
        if flag.startswith("--") and base == key and flag in argv:
            found.update(actions)
    return found


def step_actions(commands: list[str]) -> tuple[list[str], list[str]]:
    """(repository-scoped actions, unscoped actions) the commands of a step need, sorted."""
    found: set[str] = set()
    for line in commands:
        for argv in commands_of(line):
            found |= actions_of(argv)
    return sorted(found - UNSCOPED), sorted(found & UNSCOPED)
