"""Every AWS name the stacks create, derived from pym-config (infra/stacks, docs/pipeline.md).

A *target* is one deployed environment: ``staging`` and ``live`` are the direct deploys
(``cdk deploy PymService-<stage>``, stack and environment ``<name>-<stage>``),
``pipeline-staging`` and ``pipeline-live`` the pipeline-managed ones (stack and
environment ``<name>-pipeline-<stage>``). All share ``<name>-shared``: the ECR repository
and the Beanstalk application, both named ``<name>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymacaron.exceptions import StartupError

from ..config import PIPELINE_INFIX, STAGES, ServiceConfig

# Beanstalk streams instance logs to /aws/elasticbeanstalk/<environment>/<file path>, one
# stream per instance id (aws:elasticbeanstalk:cloudwatch:logs StreamLogs, infra/beanstalk.py).
LOG_GROUP_ROOT = "/aws/elasticbeanstalk"
# The container's stdout/stderr on the Docker (Amazon Linux 2/2023) platform.
APP_LOG = "var/log/eb-docker/containers/eb-current-app/stdouterr.log"
# Enhanced health streaming (aws:elasticbeanstalk:cloudwatch:logs:health).
HEALTH_LOG = "environment-health.log"
LIVE_TAG_PREFIX = "live-"  # infra/registry.py: what promotion adds to a live image


def cdk_id(part: str) -> str:
    """The construct id ``cdk deploy`` takes (infra/stacks.stack_id)."""
    return f"PymService-{part}"


@dataclass(frozen=True)
class Target:
    """One environment a stage stack created, and every name that goes with it."""

    key: str  # what the user types: staging, live, pipeline-staging, pipeline-live
    stage: str  # staging or live (the pym-config stage, PYM_ENV)
    managed_by: str  # "direct" or "pipeline"
    stack_name: str  # CloudFormation stack
    environment_name: str  # Beanstalk environment (same as the stack name)
    cdk_id: str  # what `cdk deploy` takes for this stack

    @property
    def log_group_prefix(self) -> str:
        return f"{LOG_GROUP_ROOT}/{self.environment_name}/"

    @property
    def app_log_group(self) -> str:
        return self.log_group_prefix + APP_LOG

    @property
    def health_log_group(self) -> str:
        return self.log_group_prefix + HEALTH_LOG


@dataclass(frozen=True)
class Names:
    config: ServiceConfig

    @property
    def service(self) -> str:
        return self.config.name

    @property
    def shared_stack(self) -> str:
        return self.config.stack_name("shared")

    @property
    def repository(self) -> str:
        return self.config.repository_name

    @property
    def application(self) -> str:
        return self.config.application_name

    @property
    def pipeline_stack(self) -> str | None:
        return self.config.stack_name(PIPELINE_INFIX) if self.config.pipeline else None

    @property
    def pipeline_name(self) -> str | None:
        """CodePipeline's name (``pipeline_name=`` in infra/stacks/pipeline.py)."""
        return self.pipeline_stack

    def targets(self) -> list[Target]:
        """Direct stages, then pipeline-managed ones when pym-config has ``pipeline:``."""
        out = [self._direct(s) for s in STAGES]
        if self.config.pipeline:
            out += [self._pipeline(s) for s in STAGES]
        return out

    def _direct(self, stage: str) -> Target:
        name = f"{self.service}-{stage}"
        return Target(stage, stage, "direct", name, name, cdk_id(stage))

    def _pipeline(self, stage: str) -> Target:
        name = f"{self.config.pipeline_prefix}-{stage}"
        construct = f"{cdk_id(PIPELINE_INFIX)}/{stage.capitalize()}/Service"
        return Target(f"{PIPELINE_INFIX}-{stage}", stage, "pipeline", name, name, construct)

    def target(self, key: str) -> Target:
        """The target a STAGE argument names; a bad one is a StartupError listing the choices."""
        for t in self.targets():
            if key in (t.key, t.environment_name):
                return t
        if key.startswith(f"{PIPELINE_INFIX}-") and not self.config.pipeline:
            raise StartupError(
                f"stage {key!r} is pipeline-managed, but pym-config has no 'pipeline:' section",
                file=self.config.path,
                location="key 'pipeline'",
            )
        choices = ", ".join(t.key for t in self.targets())
        raise StartupError(f"unknown stage {key!r}: expected one of {choices}")

    def alternative(self, target: Target) -> Target | None:
        """The same stage deployed the other way (direct <-> pipeline), if configured."""
        for t in self.targets():
            if t.stage == target.stage and t.managed_by != target.managed_by:
                return t
        return None

    def create_command(self, target: Target) -> str:
        """The command that creates a target's stack (docs/deploy.md, docs/pipeline.md)."""
        if target.managed_by == "pipeline":
            return self.pipeline_create_command()
        return f"pym deploy {target.stage} --version VERSION"

    def pipeline_create_command(self) -> str:
        branch = self.config.pipeline.branch if self.config.pipeline else "BRANCH"
        return f"cdk deploy {cdk_id(PIPELINE_INFIX)} (once), then git push to {branch}"
