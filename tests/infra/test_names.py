"""One module owns every AWS name of a service (infra/names.py): stack names, environments,
queues, tables, the ECR URI/ARN, stack output keys and the one reader of deployed outputs.

The scan fails when a second builder or reader appears anywhere in the kit."""

from __future__ import annotations

import ast
import pathlib

import pytest

from pymacaron_kit import names

INFRA = pathlib.Path(__file__).resolve().parents[2] / "infra"
# literal pieces of a name being built (an f-string holding one builds a name)
NAME_PIECES = ("PymService-", "-shared", "-pipeline", "-tasks", "-dlq", ".dkr.ecr.", "live-")
STAGE_WORDS = ("stage", "part", "what", "tag")


def _kit_files(root: pathlib.Path):
    for path in sorted(root.rglob("*.py")):
        if path == root / "names.py" or "templates" in path.parts:
            continue
        yield path


def _name_of(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_builder(node: ast.JoinedStr) -> bool:
    parts = node.values
    text = "".join(p.value for p in parts if isinstance(p, ast.Constant))
    if any(piece in text for piece in NAME_PIECES):
        return True
    # f"{prefix}-{stage}": two values joined by a dash, the second a stage/part
    shape = [type(p) for p in parts]
    if shape == [ast.FormattedValue, ast.Constant, ast.FormattedValue] and parts[1].value == "-":
        return any(w in _name_of(parts[2].value) for w in STAGE_WORDS)
    return False


def _is_docstring_or_message(node: ast.JoinedStr, parents: dict) -> bool:
    """Messages (an exception's or a print's argument) may quote names; they build none."""
    parent = parents.get(node)
    while parent is not None and not isinstance(parent, ast.Call):
        if isinstance(parent, ast.stmt):
            return False
        parent = parents.get(parent)
    if parent is None:
        return False
    callee = _name_of(parent.func)
    return callee in ("print", "say", "ReleaseError", "StartupError", "add_warning_v2") or (
        callee.endswith("Error")
    )


def findings(root: pathlib.Path = INFRA) -> list[str]:
    out = []
    for path in _kit_files(root):
        tree = ast.parse(path.read_text(), str(path))
        parents = {c: p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
        rel = path.relative_to(root.parent)
        for node in ast.walk(tree):
            built = isinstance(node, ast.JoinedStr) and _is_builder(node)
            if built and not _is_docstring_or_message(node, parents):
                out.append(f"{rel}:{node.lineno}: builds an AWS name: {ast.unparse(node)}")
            if isinstance(node, ast.Constant) and node.value == "live-":
                out.append(f"{rel}:{node.lineno}: a name prefix outside names.py")
            if isinstance(node, ast.Attribute) and node.attr == "describe_stacks":
                out.append(f"{rel}:{node.lineno}: reads a stack (names.find_stack/read_outputs)")
            if isinstance(node, ast.Constant) and node.value in ("OutputKey", "OutputValue"):
                out.append(f"{rel}:{node.lineno}: reads stack outputs (names.outputs)")
            output = isinstance(node, ast.Call) and _name_of(node.func) == "CfnOutput"
            if output and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                out.append(f"{rel}:{node.lineno}: an output key outside names.py")
            if isinstance(node, ast.Call) and _name_of(node.func) == "format_arn":
                kw = {k.arg: k.value for k in node.keywords}
                service = getattr(kw.get("service"), "value", None)
                resource = getattr(kw.get("resource"), "value", None)
                if service in ("ecr", "logs") or resource in ("application", "environment"):
                    out.append(f"{rel}:{node.lineno}: builds a service ARN (names.*_arn)")
    return out


def test_no_aws_name_is_built_or_read_outside_names_py():
    assert findings() == []


@pytest.mark.parametrize(
    "source",
    [
        'def f(config, stage):\n    return f"{config.name}-{stage}"\n',
        'def f(name):\n    return f"{name}-shared"\n',
        'LIVE_TAG = "live-"\n',
        'def f(a, r, n):\n    return f"{a}.dkr.ecr.{r}.amazonaws.com/{n}"\n',
        "def f(cfn):\n    return cfn.describe_stacks(StackName='x')\n",
        "def f(s):\n    return [o['OutputValue'] for o in s['Outputs']]\n",
        'def f(self):\n    CfnOutput(self, "Image", value="x")\n',
        'def f(stack, n):\n    return stack.format_arn(service="ecr", resource_name=n)\n',
    ],
)
def test_the_scan_catches_a_second_builder_or_reader(tmp_path, source):
    """The check itself: a module with a second builder/reader is reported."""
    fake = tmp_path / "infra"
    fake.mkdir()
    (fake / "names.py").write_text(source)  # names.py itself may build them
    assert findings(fake) == []
    (fake / "rogue.py").write_text(source)
    assert len(findings(fake)) == 1, findings(fake)


def test_names_of_a_service():
    assert names.cdk_id("staging") == "PymService-staging"
    assert names.stack_name("petshop", "shared") == "petshop-shared"
    prefix = names.pipeline_prefix("petshop")
    assert prefix == "petshop-pipeline"
    assert names.environment_name(prefix, "live") == "petshop-pipeline-live"
    assert names.queue_name("petshop", "staging") == "petshop-staging-tasks"
    assert names.dead_letter_queue_name("petshop-staging-tasks") == "petshop-staging-tasks-dlq"
    assert names.table_name("petshop", "live", "pets") == "petshop-live-pets"
    assert (
        names.image_uri("123456789012", "eu-west-1", "petshop", "v1")
        == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/petshop:v1"
    )
    assert names.registry_host("1", "cn-north-1").endswith(".amazonaws.com.cn")


def test_the_one_output_reader_on_a_stubbed_stack():
    import boto3
    from botocore.stub import Stubber

    cfn = boto3.client(
        "cloudformation", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stub = Stubber(cfn)
    stub.add_response(
        "describe_stacks",
        {"Stacks": [{"StackName": "petshop-shared", "CreationTime": "2026-01-01T00:00:00Z",
                     "StackStatus": "UPDATE_COMPLETE",
                     "Outputs": [{"OutputKey": "ShopRepositoryUri", "OutputValue": "u"}]}]},
    )  # fmt: skip
    stub.add_client_error(
        "describe_stacks", "ValidationError", "Stack with id petshop-live does not exist"
    )
    with stub:
        values = names.read_outputs(cfn, "petshop-shared")
        assert names.output(values, names.REPOSITORY_URI_OUTPUT) == "u"
        assert names.read_outputs(cfn, "petshop-live") is None


def test_old_module_paths_still_import_with_a_deprecation_warning():
    """Renamed kit modules (network -> vpc, pipeline -> pipeline_steps, resources ->
    package_data, plan -> template_diff, operate.names -> names) keep their old path for
    one minor version: the same module, and a DeprecationWarning naming the new one."""
    import subprocess
    import sys

    code = """
import importlib, warnings
pairs = [("network", "vpc"), ("pipeline", "pipeline_steps"), ("resources", "package_data"),
         ("plan", "template_diff"), ("operate.names", "names")]
for old, new in pairs:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module("pymacaron_kit." + old)
    assert module is importlib.import_module("pymacaron_kit." + new), old
    words = [str(w.message) for w in caught if w.category is DeprecationWarning]
    assert any("pymacaron_kit." + new in w for w in words), (old, words)
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
