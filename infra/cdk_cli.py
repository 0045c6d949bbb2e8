"""The CDK CLI version the kit drives (package.json pins the same): importable without
starting jsii, so ``pym`` reads it before any CDK import."""

CDK_CLI_VERSION = "2.1148.1"
