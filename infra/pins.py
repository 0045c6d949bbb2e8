"""The exact versions of the tools the pipeline's gates and steps install.

The repository tests with these (``.venv`` and ``package-lock.json``); CodeBuild must run
the same, or a rule release of cdk-nag or cfn-lint, or a new cdk-assets, fails a pipeline
with no commit behind it. pip takes them as constraints (``PIP_CONSTRAINT``) when
the install step installs the kit's ranges; the CDK CLI and cdk-assets are pinned where CDK
Pipelines installs them. tests/infra/test_pipeline_real_aws.py checks that these are what
is installed here and that no buildspec installs anything unpinned.
"""

from __future__ import annotations

CDK_NAG = "3.0.2"
CFN_LINT = "1.58.0"
PIP = "26.3"
CDK_CLI = "2.1148.1"  # package.json devDependencies.aws-cdk
CDK_ASSETS = "4.7.3"  # package.json devDependencies.cdk-assets

PIP_CONSTRAINTS = {"cdk-nag": CDK_NAG, "cfn-lint": CFN_LINT, "pip": PIP}
CONSTRAINT_FILE = "/tmp/pym-pins.txt"


def constraint_commands() -> list[str]:
    """Install-phase commands writing the constraints file pip then honours."""
    lines = " ".join(f"'{name}=={version}'" for name, version in sorted(PIP_CONSTRAINTS.items()))
    return [
        f"export PIP_CONSTRAINT={CONSTRAINT_FILE}",
        f"printf '%s\\n' {lines} > {CONSTRAINT_FILE}",
    ]
