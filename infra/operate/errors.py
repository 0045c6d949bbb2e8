"""AWS calls that fail as one line: botocore errors -> StartupError (pym prints it, exit 2).

``call(client, "describe_stacks", StackName=...)`` runs one API call; no credentials, no
region, an unreachable endpoint, access denied (naming the IAM action that is missing)
and any other AWS error become a :class:`StartupError`. "Not found" answers are
:class:`NotFound` (a StartupError too; the commands print it and exit 1).
"""

from __future__ import annotations

import re

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)
from botocore.parsers import ResponseParserError

from pymacaron.exceptions import StartupError

ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "AuthorizationError",
}
BAD_CREDENTIALS = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
}
_PERFORM = re.compile(r"perform: ([a-z0-9-]+:[A-Za-z0-9]+)")


class NotFound(StartupError):
    """Something the command needs does not exist (a stack, an image, a log group): exit 1."""


class Refused(StartupError):
    """The command will not do what was asked (e.g. roll back to an expired image): exit 1."""


def error_code(e: ClientError) -> str:
    return e.response.get("Error", {}).get("Code", "")


def error_message(e: ClientError) -> str:
    return one_line(e.response.get("Error", {}).get("Message", "") or str(e))


def one_line(text: str, limit: int = 240) -> str:
    """Whitespace collapsed, HTML error pages reduced to their text, at most ``limit``."""
    text = re.sub(r"<[^>]+>", " ", str(text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def permission(client, operation: str) -> str:
    """The IAM action of one boto3 call: ``cloudformation:DescribeStacks``."""
    model = client.meta.service_model
    prefix = model.signing_name or model.endpoint_prefix
    return f"{prefix}:{model.operation_model(_op_name(client, operation)).name}"


def _op_name(client, operation: str) -> str:
    return client.meta.method_to_api_mapping.get(operation, operation)


def call(client, operation: str, **kwargs):
    """``client.<operation>(**kwargs)``; failures become one-line StartupErrors."""
    try:
        return getattr(client, operation)(**kwargs)
    except ClientError as e:
        raise translate(client, operation, e) from None
    except (BotoCoreError, ResponseParserError, ValueError) as e:
        raise translate(client, operation, e) from None


def translate(client, operation: str, e: Exception) -> StartupError:
    """The one line a user reads for a failed AWS call."""
    action = permission(client, operation)
    region = client.meta.region_name
    if isinstance(e, (NoCredentialsError, PartialCredentialsError)):
        return StartupError(
            "no AWS credentials found: run `aws configure` or `aws sso login`, or set "
            "AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(e, NoRegionError):
        return StartupError("no AWS region: set aws_region in pym-config.yaml or AWS_REGION")
    if isinstance(e, ResponseParserError):
        return StartupError(
            f"unreadable answer from AWS to {action} in {region} (is AWS_ENDPOINT_URL right?)"
        )
    if isinstance(e, EndpointConnectionError):
        return StartupError(f"cannot reach AWS ({action} in {region}): {one_line(e)}")
    if isinstance(e, ClientError):
        code = error_code(e)
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ACCESS_DENIED or (status == 403 and code not in BAD_CREDENTIALS):
            match = _PERFORM.search(error_message(e)) or _PERFORM.search(str(e))
            missing = match.group(1) if match else action
            return StartupError(
                f"access denied: your AWS identity lacks the IAM permission {missing} "
                f"(region {region}); grant it, or use a role that has it"
            )
        if code in BAD_CREDENTIALS:
            return StartupError(
                f"AWS rejected your credentials ({code}) for {action}: refresh them "
                "(`aws sso login`, new keys) and retry"
            )
        return StartupError(f"AWS error on {action} ({code or 'unknown'}): {error_message(e)}")
    return StartupError(f"AWS request {action} in {region} failed: {one_line(e)}")


def checked_option(
    value: str | None, pattern: re.Pattern, option: str, expected: str
) -> str | None:
    """``value`` of ``option`` (None: not given) when ``pattern`` matches all of it, else a
    StartupError: ``expected <expected>, got <value>``, located at the option."""
    if value is not None and not pattern.match(value):
        raise StartupError(f"expected {expected}, got {value!r}", location=f"option {option}")
    return value
