"""``PymService``: a pymacaron service's stage as a CDK construct, for any CDK app.

A team with its own CDK app puts the service beside its other resources::

    stack = Stack(app, "Shelf")
    shelf = PymService(stack, "Shelf", config="pym-config.yaml", stage="staging")
    bucket.grant_read(shelf)                      # the service is an IGrantable
    shelf.add_environment_variable("BUCKET", bucket.bucket_name)

Everything it makes is a typed attribute (``environment``, ``instance_role``, ``tables``,
``task_queue``, ``repository``, ``alarms``...), so any L1 property stays reachable
(docs/deploy.md, "Escape hatches"). The kit's own stacks (``build_app``) are built from
the same constructs: :class:`PymShared` in ``PymService-shared``, :class:`PymService` in
each ``PymService-<stage>``, with the id ``Default`` so their templates keep their ids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

import jsii
from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_elasticbeanstalk as eb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from pymacaron.exceptions import StartupError

from . import names
from .alarms import EnvironmentAlarms
from .beanstalk import BeanstalkApplication, StageEnvironment, environment_options
from .beanstalk_options import check_option
from .config import STAGES, ServiceConfig, StageConfig, load_service_config
from .config_rules import image_of_version
from .iam import ServiceRoles, secret_arn
from .nag import acknowledge
from .names import repository_arn
from .platform import resolve as resolve_platform
from .registry import ServiceRepository
from .tables import service_tables
from .task_queue import ENV_NAMESPACE, TaskQueue, task_queue_settings
from .version import ImageVersion
from .vpc import ServiceNetwork

__all__ = [
    "PymService",
    "PymShared",
    "BuiltAtTop",
    "ServiceParts",
    "SharedParts",
]  # PymStage, PymPipeline: stages.py


if TYPE_CHECKING:
    # The bodies below are mixed into a Construct (PymShared, PymService) or a Stack (the
    # kit's stacks): a Construct, as a type checker sees them.
    _Scope = Construct
else:
    _Scope = object


class Grants(Protocol):
    """A construct with a ``grant(grantee, *actions)`` (a bucket, a table, a queue...)."""

    def grant(self, grantee: iam.IGrantable, /, *actions: str) -> iam.Grant: ...


class GrantsRead(Protocol):
    def grant_read(self, grantee: iam.IGrantable, /) -> iam.Grant: ...


class GrantsReadWrite(Protocol):
    def grant_read_write(self, grantee: iam.IGrantable, /) -> iam.Grant: ...


def config_of(config: str | ServiceConfig) -> ServiceConfig:
    """A loaded config, or the one a pym-config path names."""
    return config if isinstance(config, ServiceConfig) else load_service_config(config)


class SharedParts(_Scope):
    """The body of :class:`PymShared`, also built at the top of the kit's shared stack."""

    def _build_shared(self, config: str | ServiceConfig) -> None:
        scope = self  # a Construct (PymShared) or a Stack (the kit's SharedStack)
        self.config = config_of(config)
        self.registry = ServiceRepository(
            scope, "Registry", repository_name=self.config.repository_name
        )
        self.repository: ecr.Repository = self.registry.repository
        self.application = BeanstalkApplication(
            scope,
            "Beanstalk",
            application_name=self.config.application_name,
            description=f"{self.config.name} (pymacaron service; environments: staging, live)",
        )


class PymShared(SharedParts, Construct):
    """What a service's stages share: the image repository and the Beanstalk application."""

    def __init__(self, scope: Construct, id: str, *, config: str | ServiceConfig):
        Construct.__init__(self, scope, id)
        self._build_shared(config)


class BuiltAtTop(_Scope):
    """A construct built at the top of its scope, a Construct or a Stack (whose resources
    then keep the paths and logical ids they always had): its ``__init__`` holds the
    options and the build; a subclass says only how its scope opens, ``_open_scope``:
    ``Construct.__init__``, or ``Stack.__init__`` with the stack's name and options (env...)."""

    _open_scope: Callable[..., None]


class ServiceParts(BuiltAtTop):
    """One stage of a service: :class:`PymService` (a Construct) or the kit's stage stacks
    (a Stack); ``_open_scope(scope, id, config, stage, prefix, **options)``, and with
    ``SHARED_ELSEWHERE`` where the repository and application live when ``shared`` is
    not given."""

    # False: made here (one stage per app); True: another stack holds them (PymService-shared)
    SHARED_ELSEWHERE = False

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: str = "staging",
        config: str | ServiceConfig = "pym-config.yaml",
        shared: PymShared | None = None,
        shared_elsewhere: bool | None = None,
        version: str | None = None,
        image: str | None = None,
        name_prefix: str | None = None,
        **scope_options: Any,
    ):
        config = config_of(config)
        # name_prefix: the pipeline's stages use `<name>-pipeline` (stack, environment and
        # queue names), so they never collide with direct deploys (`<name>-<stage>`).
        prefix = name_prefix or config.name
        self._open_scope(scope, id, config, stage, prefix, **scope_options)
        if shared_elsewhere is None:
            shared_elsewhere = self.SHARED_ELSEWHERE
        if stage not in STAGES:
            raise StartupError(
                f"expected a stage among {', '.join(STAGES)}, got {stage!r}",
                location=f"PymService {id!r}",
            )
        self.config = config
        self.stage_name = stage
        stage_config = config.stages[stage]
        env_name = names.environment_name(prefix, stage)
        self.environment_name = env_name
        if shared is None and not shared_elsewhere:
            shared = PymShared(self, "Shared", config=config)
        self.shared = shared
        if version and not image:
            image = _image(config, version)
        self.network = ServiceNetwork(
            self,
            "Network",
            network=config.network,
            log_retention_days=stage_config.log_retention_days,
        )
        self.roles = ServiceRoles(
            self,
            "Roles",
            repository_arn=repository_arn(self, config.repository_name),
            secrets=stage_config.secrets,
            application_name=config.application_name,
            environment_name=env_name,
        )
        self.instance_role: iam.Role = self.roles.instance_role
        self.service_role: iam.Role = self.roles.service_role
        # with_async: true -> an SQS task queue, its dead-letter queue and alarm (docs/tasks.md)
        tasks = task_queue_settings(stage_config.data, stage)
        self.task_queue = (
            TaskQueue(
                self,
                "Tasks",
                queue_name=names.queue_name(prefix, stage),
                grantee=self.roles.instance_role,
                **tasks,
            )
            if tasks
            else None
        )
        # x-persist models -> DynamoDB tables, item access for the instance role (docs/persist.md)
        self.tables = service_tables(
            self,
            "Tables",
            config_path=config.path,
            stage=stage,
            name_prefix=prefix,
            grantee=self.roles.instance_role,
            settings=stage_config.data,
        )
        self.release = (
            self._release(config.application_name, stage_config, image, version)
            if image and version
            else None
        )
        options = environment_options(
            stage=stage_config,
            vpc_id=self.network.vpc_id,
            instance_subnets=self.network.instance_subnets,
            elb_subnets=self.network.elb_subnets,
            public_instances=self.network.public_instances,
            instance_profile=self.roles.instance_profile.instance_profile_name,
            service_role=self.roles.service_role.role_arn,
            secrets={s.env_name: secret_arn(self, s) for s in stage_config.secrets},
        )
        if self.task_queue:
            options += self.task_queue.environment_options()
        if self.tables:
            options += self.tables.environment_options()
        self.beanstalk = StageEnvironment(
            self,
            "Service",
            application_name=config.application_name,
            environment_name=env_name,
            platform=resolve_platform(self, config),
            options=options,
            version_label=self.release.version_label if self.release else None,
        )
        # (`environment` on PymService; a Stack already has an `environment` of its own)
        self.beanstalk_environment: eb.CfnEnvironment = self.beanstalk.environment
        self._options = list(options)
        for extra in stage_config.beanstalk_options:
            self.add_option_setting(*extra.as_tuple())
        self.alarms = EnvironmentAlarms(
            self,
            "Alarms",
            environment_name=env_name,
            notification_email=stage_config.notification_email,
        )
        self.alarm_topic: sns.Topic = self.alarms.topic
        if self.task_queue:
            self.task_queue.alarm_to(self.alarms.topic)
        # Instances pull the image at launch: the instance role policy must exist first.
        self.beanstalk.node.add_dependency(self.roles.instance_role)
        if shared is not None:  # the environment runs the application's versions
            self.beanstalk.node.add_dependency(shared.application)
        self._outputs(env_name, stage_config, name_prefix, image)

    def _release(
        self, application_name: str, stage_config: StageConfig, image: str, version: str
    ) -> ImageVersion:
        """The application version that runs ``image``, its source bundle readable by this
        stage's instances (and only that object)."""
        release = ImageVersion(
            self,
            "Release",
            application_name=application_name,
            image=image,
            version=version,
            https_redirect=stage_config.https,
            max_body_size=stage_config.max_body_size,
        )
        # Instances download the source bundle with their own role: that object only.
        bundle = release.bundle
        self.roles.instance_role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadOwnSourceBundle",
                actions=["s3:GetObject"],
                resources=[bundle.bucket.arn_for_objects(bundle.s3_object_key)],
            )
        )
        return release

    def _outputs(
        self,
        env_name: str,
        stage_config: StageConfig,
        name_prefix: str | None,
        image: str | None,
    ) -> None:
        config = self.config
        endpoint = self.beanstalk_environment.attr_endpoint_url
        CfnOutput(self, names.ENVIRONMENT_NAME_OUTPUT, value=env_name)
        # The load balancer's own name: plain HTTP (the certificate names live_host).
        self.environment_url = CfnOutput(
            self, names.ENVIRONMENT_URL_OUTPUT, value=f"http://{endpoint}"
        )
        # Where tests reach the stage: ServiceUrl when it has a host name, else the LB.
        self.public_url = self.environment_url
        CfnOutput(self, names.ENDPOINT_URL_OUTPUT, value=endpoint)
        CfnOutput(self, names.ALARM_TOPIC_OUTPUT, value=self.alarms.topic.topic_arn)
        self.dns_record: route53.CfnRecordSet | None = None
        # A host name always comes with its certificate (config.py), so it is served over
        # HTTPS; the smoke/acceptance tests target it, else the load balancer's own URL.
        if stage_config.live_host:
            host = stage_config.live_host.split("://", 1)[-1].split("/", 1)[0]
            self.public_url = CfnOutput(self, names.SERVICE_URL_OUTPUT, value=f"https://{host}")
            # One stack owns the record: the pipeline's stage when there is a pipeline (two
            # stacks creating one record name would fail), else the direct deploy's.
            owns_dns = (name_prefix is not None) == (config.pipeline is not None)
            if stage_config.hosted_zone and owns_dns:
                zone = stage_config.hosted_zone
                # A CNAME to the load balancer's name, which Beanstalk owns and may change
                # when it replaces the load balancer (the record follows the attribute).
                self.dns_record = route53.CfnRecordSet(
                    self,
                    "DnsRecord",
                    hosted_zone_id=zone.zone_id,
                    name=f"{host}.",
                    type="CNAME",
                    ttl="60",
                    resource_records=[endpoint],
                )
        if self.release:
            CfnOutput(self, names.IMAGE_OUTPUT, value=image)

    # ---- typed views -------------------------------------------------------------------

    @property
    def grant_principal(self) -> iam.IPrincipal:
        """The instance role: ``bucket.grant_read(service)`` grants the service's code."""
        return self.instance_role

    @property
    def repository(self) -> ecr.IRepository:
        """The image repository (this app's :class:`PymShared`, or imported by name)."""
        if self.shared is not None:
            return self.shared.repository
        existing = self.node.try_find_child("Repository")
        if existing is not None:
            return cast(ecr.IRepository, existing)  # the child made below, on a first call
        return ecr.Repository.from_repository_name(self, "Repository", self.config.repository_name)

    @property
    def application_name(self) -> str:
        return self.config.application_name

    @property
    def queues(self) -> list[sqs.Queue]:
        """The task queue and its dead-letter queue (``with_async: true``), else empty."""
        if self.task_queue is None:
            return []
        return [self.task_queue.queue, self.task_queue.dead_letter_queue]

    @property
    def table_map(self) -> dict[str, dynamodb.Table]:
        """DynamoDB tables of the x-persist models, by table name (empty when none)."""
        return dict(self.tables.tables) if self.tables else {}

    @property
    def alarm_list(self) -> list[cw.Alarm]:
        """Every alarm of the stage (error rate, unhealthy hosts, dead letters)."""
        out = [self.alarms.error_rate, self.alarms.unhealthy_hosts]
        if self.task_queue is not None:
            out.append(self.task_queue.dead_letter_alarm)
        return out

    # ---- helpers -------------------------------------------------------------------------

    def add_option_setting(self, namespace: str, option: str, value: str) -> None:
        """Set one Beanstalk option of the environment (replacing the kit's, if it sets it).

        The namespace must be one Beanstalk documents (StartupError otherwise).
        """
        check_option(namespace, option, where=f"PymService {self.node.id!r}")
        self._options = [o for o in self._options if (o[0], o[1]) != (namespace, option)]
        self._options.append((namespace, option, value))
        self.beanstalk_environment.option_settings = [
            eb.CfnEnvironment.OptionSettingProperty(namespace=ns, option_name=name, value=v)
            for ns, name, v in self._options
        ]

    def add_environment_variable(self, name: str, value: str) -> None:
        """An environment variable of the service's containers (tokens allowed)."""
        self.add_option_setting(ENV_NAMESPACE, name, value)

    def grant(self, resource: Grants, *actions: str, reason: str | None = None) -> iam.Grant:
        """``resource.grant(instance_role, *actions)``: any construct with a ``grant``."""
        return self._granted(resource.grant(self.instance_role, *actions), reason)

    def grant_read(self, resource: GrantsRead, *, reason: str | None = None) -> iam.Grant:
        """Read access to a bucket, table, secret, parameter... (its own ``grant_read``).

        ``reason``: one sentence acknowledging the grant's wildcards (``s3:GetObject*`` on
        ``bucket/*``) to cdk-nag, which otherwise fails synthesis on them (AwsSolutions-IAM5).
        """
        return self._granted(resource.grant_read(self.instance_role), reason)

    def grant_read_write(
        self, resource: GrantsReadWrite, *, reason: str | None = None
    ) -> iam.Grant:
        """Read and write access (its own ``grant_read_write``); ``reason`` as grant_read."""
        return self._granted(resource.grant_read_write(self.instance_role), reason)

    def grant_send_messages(self, queue: sqs.IQueue) -> iam.Grant:
        """Send messages to a queue of the app's."""
        return queue.grant_send_messages(self.instance_role)

    def grant_publish(self, topic: sns.ITopic) -> iam.Grant:
        """Publish to a topic of the app's."""
        return topic.grant_publish(self.instance_role)

    def _granted(self, grant: iam.Grant, reason: str | None) -> iam.Grant:
        if reason is None:
            return grant
        stack = Stack.of(self)
        for statement in grant.principal_statements:
            for what, values in (("Action", statement.actions), ("Resource", statement.resources)):
                for value in values:
                    text = _nag_text(stack.resolve(value))
                    if "*" in text:
                        acknowledge(
                            self.instance_role, f"AwsSolutions-IAM5[{what}::{text}]", reason
                        )
        return grant


@jsii.implements(iam.IGrantable)
class PymService(ServiceParts, Construct):
    """One stage of a service: its Beanstalk environment and everything it needs.

    ``config``: a pym-config.yaml path or a loaded :class:`ServiceConfig`. ``shared``: the
    :class:`PymShared` its stages share; when omitted, the service makes its own (one
    stage per app), or with ``shared_elsewhere=True`` names the ones another stack holds
    (the kit's ``PymService-shared``). ``version``: the image tag to deploy (``image``:
    its URI, else from pym-config's aws_account/aws_region).
    """

    def _open_scope(
        self,
        scope: Construct,
        id: str,
        config: ServiceConfig,
        stage: str,
        prefix: str,
        **options: Any,
    ) -> None:
        Construct.__init__(self, scope, id, **options)

    @property
    def environment(self) -> eb.CfnEnvironment:
        """The Beanstalk environment (L1: every property settable, docs/deploy.md)."""
        return self.beanstalk_environment


def _nag_text(value: object) -> str:
    """A resolved value as cdk-nag spells it in a finding id (``<Covers1234.Arn>/*``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return str(sep).join(_nag_text(p) for p in parts)
    return str(value)


def _image(config: ServiceConfig, version: str) -> str:
    return image_of_version(config, version, otherwise=", or pass image=")
