"""One typed pym-config, read once, its defaults in the JSON Schema.

- a default is written once: ``"default"`` in pym-config.schema.json (no dict of defaults);
- the file is parsed by one reader (``pymacaron.config.read_config_file``), called only by
  the modules that own a view of it; nothing else opens or parses pym-config;
- the kit's constructs take values (``StageConfig.data``), never re-read the file.
"""

from __future__ import annotations

import ast
import json
import pathlib
import re

import pytest

from pymacaron.config import DEFAULTS, config_schema, deploy_keys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCES = (ROOT / "framework" / "pymacaron", ROOT / "infra")
# Who may call the one reader (read_config_file / read_stage_config): the runtime's model,
# the kit's typed model, the release steps' dict view, `pym check` (it validates every
# stage's file).
READER_CALLERS = {
    "framework/pymacaron/config.py",
    "infra/config.py",
    "infra/release/common.py",
    "framework/pymacaron/commands/service.py",
}
CONFIG_FILE = re.compile(r"^pym-config(\.[\w{}]+)?\.yaml$")  # a file name, not a message
READERS = ("read_config_file", "read_stage_config")
PARSERS = {"load_yaml", "safe_load", "load", "open", "loads"}


def _python_files(roots=SOURCES):
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            if "templates" not in path.parts:
                yield path


def _call_name(node: ast.Call) -> str:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def reader_findings(roots=SOURCES, base=ROOT) -> list[str]:
    out = []
    for path in _python_files(roots):
        rel = path.relative_to(base).as_posix()
        tree = ast.parse(path.read_text(), rel)
        for node in ast.walk(tree):
            literal = isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
            if literal and any(getattr(t, "id", "") == "DEFAULTS" for t in node.targets):
                out.append(f"{rel}:{node.lineno}: a dict of defaults (the schema's job)")
            reads = isinstance(node, ast.Call) and _call_name(node) in READERS
            if reads and rel not in READER_CALLERS:
                out.append(f"{rel}:{node.lineno}: reads pym-config again")
            if isinstance(node, (ast.FunctionDef, ast.Module)) and rel not in READER_CALLERS:
                body = node.body if isinstance(node, ast.FunctionDef) else []
                inner = [n for b in body for n in ast.walk(b)]
                names = any(
                    isinstance(n, ast.Constant) and isinstance(n.value, str)
                    and CONFIG_FILE.match(n.value)
                    for n in inner
                )  # fmt: skip
                parses = [n for n in inner if isinstance(n, ast.Call) and _call_name(n) in PARSERS]
                if names and parses:
                    out.append(f"{rel}:{node.lineno}: opens or parses pym-config itself")
    return out


def test_one_reader_of_pym_config_and_no_dict_of_defaults():
    assert reader_findings() == []


def test_the_scan_finds_a_second_raw_reader(tmp_path):
    pkg = tmp_path / "infra"
    pkg.mkdir()
    (pkg / "ok.py").write_text("def f(config):\n    return config.region\n")
    assert reader_findings([pkg], tmp_path) == []
    (pkg / "raw.py").write_text(
        "import yaml\ndef name():\n    return yaml.safe_load(open('pym-config.yaml'))['name']\n"
    )
    (pkg / "again.py").write_text(
        "from pymacaron.config import read_stage_config\n"
        "def f(p, s):\n    return read_stage_config(p, s)\n"
    )
    (pkg / "defaults.py").write_text("DEFAULTS = {'aws_hosts_min': 1}\n")
    assert len(reader_findings([pkg], tmp_path)) == 3


def test_scripts_read_no_pym_config_themselves():
    for path in sorted((ROOT / "scripts").iterdir()):
        if path.is_file():
            text = path.read_text()
            assert "safe_load" not in text and "import yaml" not in text, path


def test_every_default_is_in_the_schema():
    """The runtime's and the kit's defaults are the schema's ``default`` values."""
    from pymacaron_kit.config import DEFAULTS as KIT_DEFAULTS

    props = config_schema()["properties"]
    schema = {k: v["default"] for k, v in props.items() if "default" in v}
    assert schema == {**DEFAULTS, **KIT_DEFAULTS}
    assert set(KIT_DEFAULTS) <= deploy_keys() and not set(DEFAULTS) & deploy_keys()
    # the values the project documents (README "Config keys")
    assert KIT_DEFAULTS == {"aws_instance_type": "t3.small", "aws_hosts_min": 1,
                            "aws_hosts_max": 2, "deployment_policy": "Immutable",
                            "log_retention_days": 30}  # fmt: skip
    assert DEFAULTS["max_body_size"] == 1024 * 1024 and DEFAULTS["client_retries"] == 2
    raw = json.loads((ROOT / "framework/pymacaron/pym-config.schema.json").read_text())
    assert raw["properties"]["jwt_token_timeout"]["default"] == 86400


def test_the_stage_values_are_read_once_by_the_typed_config(tmp_path):
    """StageConfig.data carries the stage's view; the task queue, tables and
    beanstalk_options take it (no path re-read inside the stack)."""
    from pymacaron_kit.beanstalk_options import beanstalk_options
    from pymacaron_kit.config import load_service_config
    from pymacaron_kit.task_queue import task_queue_settings

    (tmp_path / "pym-config.yaml").write_text(
        "name: svc\nwith_async: true\naws_hosts_max: 3\ntask_visibility_timeout: 60\n"
        "stages:\n  live:\n"
        "    beanstalk_options:\n"
        '      - {namespace: "aws:elasticbeanstalk:environment:process:admin", '
        "option: Port, value: 9000}\n"
    )
    config = load_service_config(str(tmp_path / "pym-config.yaml"))
    (tmp_path / "pym-config.yaml").unlink()  # the constructs' values need no file now
    live = config.stages["live"].data
    assert task_queue_settings(live, "live")["visibility_timeout"] == 60
    assert task_queue_settings(config.stages["staging"].data, "staging") is not None
    assert beanstalk_options(live, "live", config.path)[0].as_tuple() == (
        "aws:elasticbeanstalk:environment:process:admin", "Port", "9000",
    )  # fmt: skip
    assert config.stages["live"].hosts_max == 3


def test_one_service_directory_variable(tmp_path, recwarn):
    """PYM_SERVICE_DIR names the service's directory for the kit too; PYM_RELEASE_ROOT is
    its deprecated old name (a DeprecationWarning naming the new one)."""
    import warnings

    from pymacaron_kit.release.common import service_root

    new, old = tmp_path / "new", tmp_path / "old"
    assert service_root(None, {"PYM_SERVICE_DIR": str(new)}) == str(new)
    assert service_root("here", {"PYM_SERVICE_DIR": str(new)}).endswith("here")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert service_root(None, {"PYM_RELEASE_ROOT": str(old)}) == str(old)
    assert any("PYM_SERVICE_DIR" in str(w.message) for w in caught)
    assert caught[0].category is DeprecationWarning


# ---- every cross-key rule in the typed config -----------------------------------------------

# Where pym-config's rules live: the schema's reader (runtime) and the kit's rules.
RULE_HOMES = {
    "framework/pymacaron/config.py",
    "infra/config.py",
    "infra/config_model.py",
    "infra/config_rules.py",
}
# Functions that read two keys and raise, for another reason than a rule between the keys:
# each with why (a new one here is a decision, said in review).
NOT_RULES = {
    # prints a note when a pipeline exists; its hint names the bootstrap to run
    "infra/deploy.py:deploy",
    # reads the values `cdk bootstrap` takes; raises on a missing --execution-policy
    "infra/deploy.py:bootstrap_account",
    # the container's env and env_secrets (the rule: pymacaron.config.read_env_secrets)
    "infra/release/image_run.py:container_env",
}


def _config_keys() -> set[str]:
    schema = config_schema()
    return set(schema["properties"]) | set(schema["definitions"]["stage"]["properties"])


def cross_key_findings(roots=SOURCES, base=ROOT, keys=None) -> list[str]:
    """Functions outside the homes that read two or more pym-config keys (``.get("key")``
    or ``["key"]``) and raise: a rule between keys written a second time."""
    keys = _config_keys() if keys is None else keys
    out = []
    for path in _python_files(roots):
        rel = path.relative_to(base).as_posix()
        if rel in RULE_HOMES:
            continue
        for fn in ast.walk(ast.parse(path.read_text(), rel)):
            if not isinstance(fn, ast.FunctionDef) or f"{rel}:{fn.name}" in NOT_RULES:
                continue
            read, raises = set(), False
            for n in ast.walk(fn):
                raises = raises or isinstance(n, ast.Raise)
                if isinstance(n, ast.Call) and _call_name(n) == "get" and n.args:
                    arg = n.args[0]
                elif isinstance(n, ast.Subscript):
                    arg = n.slice
                else:
                    continue
                if isinstance(arg, ast.Constant) and arg.value in keys:
                    read.add(arg.value)
            if raises and len(read) >= 2:
                out.append(f"{rel}:{fn.lineno}: {fn.name} checks {', '.join(sorted(read))}")
    return out


def test_every_cross_key_rule_is_in_the_typed_config():
    assert cross_key_findings() == []


def test_the_scan_finds_a_rule_outside_its_home(tmp_path):
    pkg = tmp_path / "infra"
    pkg.mkdir()
    (pkg / "ok.py").write_text("def f(data):\n    return data.get('with_async')\n")
    (pkg / "rule.py").write_text(
        "def f(data):\n"
        "    if data.get('with_async') and not data['broker_url']:\n"
        "        raise ValueError('with_async needs broker_url')\n"
    )
    found = cross_key_findings([pkg], tmp_path)
    assert found == ["infra/rule.py:1: f checks broker_url, with_async"]


def test_rules_moved_home_keep_their_errors(tmp_path):
    """The rules of the tables, the task queue and an image version are config_rules',
    their errors naming the file and the key as before."""
    from pymacaron.exceptions import StartupError
    from pymacaron_kit.config import load_service_config
    from pymacaron_kit.config_rules import image_of_version, table_settings_of, task_queue_of

    data = {"dynamodb_billing_mode": "PROVISIONED", "dynamodb_read_capacity": 5}
    with pytest.raises(StartupError, match="needs dynamodb_write_capacity") as e:
        table_settings_of(data, "live", str(tmp_path / "pym-config.yaml"))
    assert "pym-config.yaml" in str(e.value) and "key 'dynamodb_write_capacity'" in str(e.value)
    assert task_queue_of({"with_async": True, "broker_url": "redis://h"}) is None
    assert task_queue_of({"with_async": True})["visibility_timeout"] > 0
    (tmp_path / "pym-config.yaml").write_text("name: svc\n")
    config = load_service_config(str(tmp_path / "pym-config.yaml"))
    with pytest.raises(StartupError, match="needs the AWS account and region") as e:
        image_of_version(config, "v1", otherwise=", or pass image=")
    assert "key 'aws_account'" in str(e.value) and str(e.value).endswith("or pass image=")
    uri = image_of_version(config, "v1", "123456789012", "eu-west-1")
    assert uri == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/svc:v1"


def test_section_defaults_are_the_schemas_too(tmp_path):
    """Defaults inside a section (vpc, image_scan, pipeline) or behind a $ref are written
    in the schema as well, and the typed model reads them there."""
    from pymacaron.config import schema_default
    from pymacaron_kit.config import Network, ScanGate, load_service_config
    from pymacaron_kit.config_rules import table_settings_of
    from pymacaron_kit.service_repo import unit_test_command

    assert schema_default("vpc", "max_azs") == 2 and schema_default("vpc", "nat_gateways") == 1
    assert (Network().name, Network().cidr) == ("pym-network", "10.0.0.0/16")
    assert ScanGate() == ScanGate(max_findings={"CRITICAL": 0}, allow=False, timeout_seconds=900)
    assert schema_default("dynamodb_billing_mode") == "PAY_PER_REQUEST"
    with pytest.raises(KeyError, match="no default for vpc.id"):
        schema_default("vpc", "id")
    (tmp_path / "pym-config.yaml").write_text(
        "name: svc\nvpc: {max_azs: 3}\nimage_scan: {allow: true}\n"
    )
    config = load_service_config(str(tmp_path / "pym-config.yaml"))
    assert (config.network.max_azs, config.network.nat_gateways) == (3, 1)
    assert (config.scan_gate.allow, config.scan_gate.timeout_seconds) == (True, 900)
    assert table_settings_of({}, "live", None) == {"billing_mode": "PAY_PER_REQUEST"}
    assert unit_test_command(None) == "python -m pytest -q tests"


def test_beanstalk_options_are_checked_once_by_the_typed_config(tmp_path):
    """The typed config holds the stage's beanstalk_options, checked by the rules home
    (config_rules.py): a bad entry fails load_service_config itself, and
    beanstalk_options.py checks no entry of its own."""
    from pymacaron.exceptions import StartupError
    from pymacaron_kit.config import BeanstalkOption, load_service_config

    path = tmp_path / "pym-config.yaml"
    path.write_text(
        "name: svc\nbeanstalk_options:\n"
        '  - {namespace: "aws:elasticbeanstalk:xray", option: XRayEnabled, value: true}\n'
        "stages:\n  live:\n    beanstalk_options:\n"
        '      - {namespace: "aws:elbv2:listener:8443", option: Protocol, value: HTTPS}\n'
    )
    config = load_service_config(str(path))
    assert config.stages["staging"].beanstalk_options == (
        BeanstalkOption("aws:elasticbeanstalk:xray", "XRayEnabled", "true"),
    )
    assert config.stages["live"].beanstalk_options == (
        BeanstalkOption("aws:elbv2:listener:8443", "Protocol", "HTTPS"),
    )
    path.write_text(
        "name: svc\nstages:\n  live:\n    beanstalk_options:\n"
        '      - {namespace: "aws:autoscaling:asg", option: MaxSize, value: 4}\n'
    )
    with pytest.raises(StartupError) as e:
        load_service_config(str(path))
    assert str(e.value).endswith(
        "pym-config.yaml: key 'stages.live.beanstalk_options[0]': aws:autoscaling:asg MaxSize "
        "is set from pym-config's 'aws_hosts_max': use that"
    )
    # the rule on the entries is written in one module
    homes = [p for p in _python_files() if "is set from pym-config's" in p.read_text()]
    assert [str(p.relative_to(ROOT)) for p in homes] == ["infra/config_rules.py"]


def test_task_visibility_timeout_default_lives_in_the_schema():
    """Its default is the schema's (read once): the worker's settings and the stage's SQS
    queue take that value, and no module writes the number again."""
    from pymacaron.config import schema_default
    from pymacaron.tasks import settings
    from pymacaron_kit.config_rules import task_queue_of

    assert schema_default("task_visibility_timeout") == 900
    assert settings.DEFAULT_VISIBILITY_TIMEOUT == 900
    assert task_queue_of({"with_async": True})["visibility_timeout"] == 900
    for path in _python_files():
        text = path.read_text()
        assert not re.search(r"VISIBILITY_TIMEOUT\w*\s*(:\s*int\s*)?=\s*\d", text), path


# Commands that take the typed config (infra/config.py): never the release steps' dict view.
TYPED_CONFIG_COMMANDS = ("infra/deploy.py",)
DICT_VIEW = {"read_pym_config", "service_name"}


def test_synth_plan_and_deploy_take_the_typed_config():
    """`pym synth`, `pym plan`'s deploy plan and `pym deploy` read pym-config through the
    typed config only, so a file it refuses is refused the same way by each."""
    for rel in TYPED_CONFIG_COMMANDS:
        tree = ast.parse((ROOT / rel).read_text(), rel)
        raw = [
            f"{rel}:{n.lineno}: {_call_name(n)}()"
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and _call_name(n) in DICT_VIEW
        ]
        assert raw == []
