"""``pym bootstrap``: ``cdk bootstrap`` the way this service's stacks expect it.

With ``bootstrap_qualifier: Q`` the bootstrap gets its own toolkit stack
(``--toolkit-stack-name CDKToolkit-Q``): without it, ``cdk bootstrap --qualifier Q`` would
update the account's existing ``CDKToolkit`` stack in place and replace the roles other CDK
apps deploy through. Every message advising a bootstrap prints :func:`command`.
"""

from __future__ import annotations

DEFAULT_QUALIFIER = "hnb659fds"  # CDK's own
DEFAULT_TOOLKIT = "CDKToolkit"
# What the stacks create (docs/deploy.md, step 5): the execution policy's services.
EXECUTION_SERVICES = (
    "cloudformation", "elasticbeanstalk", "ec2", "autoscaling", "elasticloadbalancing", "iam",
    "s3", "ecr", "logs", "sns", "cloudwatch", "sqs", "dynamodb", "route53", "ssm",
    "codepipeline", "codebuild", "codestar-notifications", "codeconnections", "kms", "events",
)  # fmt: skip


def toolkit_stack(qualifier: str | None) -> str:
    return f"{DEFAULT_TOOLKIT}-{qualifier}" if qualifier else DEFAULT_TOOLKIT


def command(account: str | None, region: str | None, qualifier: str | None,
            execution_policy: str | None = None) -> str:  # fmt: skip
    """The ``cdk bootstrap`` line this service needs (``pym bootstrap`` runs it)."""
    parts = ["cdk bootstrap", f"aws://{account or 'ACCOUNT_ID'}/{region or 'REGION'}"]
    if qualifier:
        parts += ["--qualifier", qualifier, "--toolkit-stack-name", toolkit_stack(qualifier)]
    policy = execution_policy or f"arn:aws:iam::{account or 'ACCOUNT_ID'}:policy/POLICY"
    parts += ["--cloudformation-execution-policies", policy]
    return " ".join(parts)


def advice(account: str | None, region: str | None, qualifier: str | None) -> str:
    """One line: how to bootstrap for this service."""
    return (
        f"bootstrap once per account and region: pym bootstrap --execution-policy ARN "
        f"(runs {command(account, region, qualifier, 'ARN')}; pym docs deploy, step 5)"
    )


def execution_policy_document(name: str, account: str) -> dict:
    """A starting execution policy: the services the stacks use, IAM scoped to the roles
    of this service's stacks and of the shared network (its flow-log role)."""
    services = [s for s in EXECUTION_SERVICES if s != "iam"]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": [f"{s}:*" for s in services], "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "iam:*",
                "Resource": [
                    f"arn:aws:iam::{account}:role/{name}-*",
                    f"arn:aws:iam::{account}:role/pym-network-*",
                    f"arn:aws:iam::{account}:instance-profile/{name}-*",
                    f"arn:aws:iam::{account}:policy/{name}-*",
                ],
            },
            {
                "Effect": "Allow",
                "Action": "iam:CreateServiceLinkedRole",
                "Resource": f"arn:aws:iam::{account}:role/aws-service-role/*",
            },
        ],
    }
