"""The boto3 clients the commands use: credentials from boto3's standard chain, region
from pym-config's ``aws_region`` (else boto3's own default), ``AWS_ENDPOINT_URL`` honoured
by boto3 itself. Tests pass ``clients={"elasticbeanstalk": stubbed}`` to replace one."""

from __future__ import annotations

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from pymacaron.exceptions import StartupError

from ..names import Names, find_stack
from .errors import call

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30
)


class Aws:
    def __init__(self, names: Names, session=None, clients: dict | None = None):
        self.names = names
        self._session = session
        self._clients = dict(clients or {})
        self._stacks: dict[str, dict | None] = {}

    @property
    def region(self) -> str | None:
        return self.names.config.region

    def client(self, service: str):
        if service not in self._clients:
            try:
                import boto3

                session = self._session or boto3.Session(region_name=self.region)
                self._clients[service] = session.client(service, config=CLIENT_CONFIG)
            except BotoCoreError as e:
                if "region" in str(e).lower():
                    raise StartupError(
                        "no AWS region: set aws_region in pym-config.yaml or AWS_REGION",
                        file=self.names.config.path,
                        location="key 'aws_region'",
                    ) from None
                raise StartupError(f"cannot create the AWS {service} client: {e}") from None
        return self._clients[service]

    def call(self, service: str, operation: str, **kwargs):
        return call(self.client(service), operation, **kwargs)

    def stack(self, name: str) -> dict | None:
        """The CloudFormation stack, or None when it does not exist (or was deleted)."""
        if name not in self._stacks:
            self._stacks[name] = self._describe_stack(name)
        return self._stacks[name]

    def _describe_stack(self, name: str) -> dict | None:
        client = self.client("cloudformation")
        try:
            return find_stack(client, name)
        except (ClientError, BotoCoreError, ResponseParserError) as e:
            return call_failed(client, "describe_stacks", e)


def resolve(aws: Aws, key: str, err=None):
    """The target STAGE names (a ``names.Target``); a plain stage falls back to its
    pipeline-managed twin when only that one is deployed (said on stderr)."""
    import sys

    names = aws.names
    target = names.target(key)
    if target.managed_by == "direct" and key == target.key:
        other = names.alternative(target)
        if other and aws.stack(target.stack_name) is None and aws.stack(other.stack_name):
            print(
                f"({key}: using the pipeline-managed {other.environment_name})",
                file=err or sys.stderr,
            )
            return other
    return target


def call_failed(client, operation: str, e: Exception):
    from .errors import translate

    raise translate(client, operation, e) from None


def image_tag(image: str | None) -> str | None:
    """``ACCOUNT.dkr.ecr.REGION.amazonaws.com/name:TAG`` -> ``TAG``."""
    if not image or ":" not in image.rsplit("/", 1)[-1]:
        return None
    return image.rsplit(":", 1)[1]
