"""The pipeline's pieces as constructs, for the kit's ``PymService-pipeline`` and a team's
own CDK app.

- :class:`PymStage`: one pipeline-managed stage (a CDK ``Stage`` holding the stage's
  service stack, named ``<name>-pipeline-<stage>``), to add to any CDK pipeline;
- :class:`PymPipeline`: the whole pipeline (git push -> synth -> unit tests + image ->
  staging -> acceptance -> [approval] -> live -> smoke test, docs/pipeline.md) as a
  construct in any stack; the kit's ``PipelineStack`` is built by the same code
  (:class:`PipelineParts`), at the top of its stack, so its template keeps its ids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_cdk import Annotations, Aws, CfnOutput, Environment, Stack, Stage, Tags, pipelines
from aws_cdk import aws_codepipeline as codepipeline
from constructs import Construct

from pymacaron.exceptions import StartupError

from . import names
from . import pipeline_steps as steps
from .config import ServiceConfig
from .construct import BuiltAtTop, config_of
from .names import repository_arn

__all__ = ["PipelineParts", "PymPipeline", "PymStage"]


class PymStage(Stage):
    """One pipeline-managed stage of the service, as a CDK ``Stage``: the stage's service
    stack (``<name>-pipeline-<stage>``, the very stack of direct deploys, pipeline-named).

    Add it to a CDK pipeline of your own (``pipeline.add_stage(PymStage(...))``); ``config``
    is a pym-config path or a loaded :class:`~infra.config.ServiceConfig`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: str | ServiceConfig,
        stage: str,
        image: str | None = None,
        version: str | None = None,
        **kwargs: object,  # Stage's own (env, outdir...)
    ):
        super().__init__(scope, id, **kwargs)
        config = config_of(config)
        self.config = config
        # Tags here: add_stage() synthesizes the stage before build_app could tag it.
        for key, value in (
            ("pym:service", config.name),
            ("pym:stack", names.environment_name(config.pipeline_prefix, stage)),
            ("pym:stage", stage),
            ("pym:deployed-by", "pipeline"),
        ):
            Tags.of(self).add(key, value)
        from .stacks.service import ServiceStageStack

        self.service = ServiceStageStack(
            self,
            "Service",
            config=config,
            stage=stage,
            image=image,
            version=version,
            name_prefix=config.pipeline_prefix,
        )


class PipelineParts(BuiltAtTop):
    """The service's pipeline: :class:`PymPipeline` (a Construct) or the kit's pipeline
    stack (a Stack); ``_open_scope(scope, id, config, **options)``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: str | ServiceConfig = "pym-config.yaml",
        image: str | None = None,
        version: str | None = None,
        stage_env: Environment | None = None,
        customize_stage: Callable[[PymStage], object] | None = None,
        **scope_options: Any,
    ):
        from .stacks.pipeline import acknowledge_generated, join_to_sub

        config = config_of(config)
        self._open_scope(scope, id, config, **scope_options)
        self.config = config
        p = config.pipeline
        if p is None:
            raise StartupError(
                "PymPipeline needs a `pipeline:` section",
                file=config.path,
                location="key 'pipeline'",
            )
        if p.placeholder_connection:
            Annotations.of(self).add_warning_v2(
                "pym:placeholder-connection",
                f"pipeline.connection_arn ({p.connection_arn}) is pym new's placeholder: create "
                "a CodeConnections connection (aws codeconnections create-connection "
                "--provider-type GitHub --connection-name NAME, then approve it in the console) "
                "and set its ARN in pym-config.yaml; `pym deploy pipeline` refuses the placeholder",
            )
        self.artifacts = steps.ArtifactStore(self, "Artifacts")
        days = max(s.log_retention_days for s in config.stages.values())
        self.build_logs = steps.build_log_group(self, "BuildLogs", days)
        self.source = steps.pipeline_source(self, p)
        commit = self.source.source_attribute("CommitId")
        repo_uri = names.repository_uri(
            Aws.ACCOUNT_ID, Aws.REGION, config.repository_name, Aws.URL_SUFFIX
        )
        repo_arn = repository_arn(self, config.repository_name)

        # synth: `cdk synth -c version=<commit>`; the pipeline then updates itself from it
        synth = pipelines.CodeBuildStep(
            "Synth",
            input=self.source,
            install_commands=steps.install_commands(p),
            commands=[*steps.SYNTH, *steps.PLAN],
            role_policy_statements=steps.kit_source_policies(p) or None,
            # the account and region the image URIs name (a pym-config without aws_account)
            env={
                "COMMIT_ID": commit,
                "CDK_DEFAULT_ACCOUNT": Aws.ACCOUNT_ID,
                "CDK_DEFAULT_REGION": Aws.REGION,
            },
            primary_output_directory="cdk.out",
        )
        self.synth_step = synth
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=config.stack_name(names.PIPELINE_INFIX),
            synth=synth,
            artifact_bucket=self.artifacts.bucket,
            pipeline_type=codepipeline.PipelineType.V2,
            self_mutation=True,
            publish_assets_in_parallel=False,
            cli_version=steps.CDK_CLI_VERSION,
            cdk_assets_cli_version=steps.CDK_ASSETS_VERSION,
            code_build_defaults=steps.code_build_defaults(self.build_logs),
        )

        def step(name: str, commands: list[str], **more: Any) -> pipelines.CodeBuildStep:
            """A CodeBuild step of the pipeline on the source, its kit as ``pipeline:`` says."""
            return steps.step(name, self.source, commands, config=p, **more)

        def image_step(name: str, commands: list[str], **more: Any) -> pipelines.CodeBuildStep:
            """A step on the commit's image in the repository (build, scan gate, promotion)."""
            image = {"COMMIT_ID": commit, "REPOSITORY_URI": repo_uri}
            policies = steps.step_policies(commands, repo_arn)
            return step(name, commands, env=image, policies=policies, **more)

        # staging: unit tests, then image build + push (the tag: the commit), deploy, test
        self.unit_tests = step("UnitTests", steps.unit_test_commands(p))
        # the only privileged project: it runs docker build
        self.image = image_step("Image", steps.IMAGE, privileged=True)
        self.image.add_step_dependency(self.unit_tests)

        def stage(construct_id: str, name: str) -> PymStage:
            built = PymStage(
                self, construct_id, config=config, stage=name, image=image, version=version,
                env=stage_env,
            )  # fmt: skip
            if customize_stage is not None:  # before add_stage synthesizes it
                customize_stage(built)
            return built

        self.staging = stage("Staging", "staging")
        self.acceptance = step(
            "AcceptanceTests",
            steps.ACCEPTANCE,
            env={"PYM_ENV": "staging"},
            env_from_cfn_outputs={"STAGING_URL": self.staging.service.public_url},
            variables=steps.secret_variables(config.stages["staging"].secrets),
            partial_build_spec=steps.REPORTS,
        )
        self.pipeline.add_stage(
            self.staging, pre=[self.unit_tests, self.image], post=[self.acceptance]
        )

        # live: [approval], tag the tested image live-<commit>, deploy it, smoke test
        live_pre: list[pipelines.Step] = []
        self.approval = None
        if p.manual_approval:
            self.approval = pipelines.ManualApprovalStep(
                "Approve", comment=f"Promote {config.name} from staging to live?"
            )
            live_pre.append(self.approval)

        self.scan_gate = image_step("ImageScanGate", steps.SCAN_GATE)
        live_pre.insert(0, self.scan_gate)
        if self.approval:
            self.approval.add_step_dependency(self.scan_gate)
        self.promote = image_step("PromoteImage", steps.PROMOTE)
        self.promote.add_step_dependency(self.approval or self.scan_gate)
        live_pre.append(self.promote)
        self.live = stage("Live", "live")
        self.smoke = step(
            "SmokeTest",
            steps.SMOKE,
            env={"COMMIT_ID": commit},
            env_from_cfn_outputs={"LIVE_URL": self.live.service.public_url},
        )
        self.pipeline.add_stage(self.live, pre=live_pre, post=[self.smoke])

        self.pipeline.build_pipeline()
        steps.grant_connection_use(self.pipeline, p.connection_arn)
        self.topic = steps.notification_topic(self, "Notifications", p.notification_email)
        self.pipeline.pipeline.notify_on(
            "Notify",
            self.topic,
            events=[
                codepipeline.PipelineNotificationEvents.PIPELINE_EXECUTION_FAILED,
                codepipeline.PipelineNotificationEvents.PIPELINE_EXECUTION_SUCCEEDED,
                codepipeline.PipelineNotificationEvents.MANUAL_APPROVAL_NEEDED,
            ],
        )
        CfnOutput(self, names.PIPELINE_NAME_OUTPUT, value=self.pipeline.pipeline.pipeline_name)
        CfnOutput(self, names.SOURCE_OUTPUT, value=p.source_label)
        CfnOutput(self, names.NOTIFICATION_TOPIC_OUTPUT, value=self.topic.topic_arn)
        acknowledge_generated(Stack.of(self), self.pipeline, self.artifacts.bucket, self.image,
                              codeartifact=p.codeartifact is not None)  # fmt: skip
        join_to_sub(Stack.of(self), self.pipeline.pipeline.node.default_child)


class PymPipeline(PipelineParts, Construct):
    """The service's pipeline (pym-config's ``pipeline:``) in any stack of a CDK app.

    ``config``: a pym-config path or a :class:`~infra.config.ServiceConfig`; ``version``:
    the image tag its stages deploy (``image``: its URI). Its steps, stages and CodePipeline
    are attributes (``unit_tests``, ``image``, ``staging``, ``live``, ``pipeline``...).
    ``customize_stage(stage)``: called with each :class:`PymStage` before the pipeline adds
    it (CDK Pipelines synthesizes a stage when it is added: later changes do not reach it).
    """

    def _open_scope(self, scope: Construct, id: str, config: ServiceConfig, **options: Any) -> None:
        Construct.__init__(self, scope, id, **options)
