"""A broken spec, config or binding stops the service at startup with a message naming
the file and the location; exit code != 0; no traceback unless --debug."""

import os
import shutil
import subprocess
import sys
import uuid

import pytest

from pymacaron.exceptions import StartupError
from tests.conftest import FIXTURES, build_app, free_port, gunicorn_cmd

LIBRARY = os.path.join(FIXTURES, "library_service")


@pytest.fixture
def service(tmp_path):
    """A private copy of the library service to break."""
    dest = tmp_path / "svc"
    shutil.copytree(LIBRARY, dest, ignore=shutil.ignore_patterns("__pycache__"))
    # a package name of its own: in-process imports must not find another copy's modules
    package = f"library_{uuid.uuid4().hex[:8]}"
    (dest / "library").rename(dest / package)
    spec = dest / "apis" / "library.yaml"
    spec.write_text(spec.read_text().replace("library.", f"{package}."))
    for path in [dest / "apis" / "library.yaml", *dest.glob("**/*.py")]:
        path.write_text(path.read_text().replace("library_copy", package))
    return dest


def edit(path, old, new):
    if not path.exists():  # the package directory carries a random name
        path = next(path.parent.parent.glob(f"library_*/{path.name}"))
    text = path.read_text()
    old = old.replace("library_copy", _package(path))
    new = new.replace("library_copy", _package(path))
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _package(path) -> str:
    root = next(p for p in path.parents if (p / "server.py").exists())
    return next(root.glob("library_*")).name


def start_error(service_dir) -> str:
    with pytest.raises(StartupError) as e:
        build_app(str(service_dir))
    return str(e.value)


def run_server(service_dir, *args, env=None):
    return subprocess.run(
        [sys.executable, "server.py", "--port", str(free_port()), *args],
        cwd=service_dir,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_malformed_yaml_names_file_and_line(service):
    edit(service / "apis" / "library.yaml", "  /books:\n", "  /books: [\n")
    message = start_error(service)
    assert "apis/library.yaml" in message and "line" in message and "malformed YAML" in message


def test_invalid_swagger_names_the_json_path_and_line(service):
    edit(
        service / "apis" / "library.yaml",
        "type: integer, minimum: 1, maximum: 50",
        "type: integr, minimum: 1, maximum: 50",
    )
    message = start_error(service)
    assert "not a valid Swagger 2.0 spec" in message
    assert "paths./books.get.parameters[2]" in message and "(line " in message, message


def test_an_unknown_openapi_version_is_refused_clearly(service):
    (service / "apis" / "library.yaml").write_text(
        "openapi: 3.2.0\ninfo: {title: t, version: '1'}\npaths: {}\n"
    )
    message = start_error(service)
    assert "expected openapi: 3.0.x or 3.1.x" in message and "got '3.2.0'" in message
    assert "openapi (line 1)" in message


def test_bind_target_that_does_not_import(service):
    edit(
        service / "apis" / "library.yaml",
        "x-bind-server: library_copy.handlers.get_book",
        "x-bind-server: library_copy.nowhere.get_book",
    )
    message = start_error(service)
    assert "GET /books/{bookId}" in message
    assert ".nowhere.get_book' does not import" in message


def test_handler_missing_a_parameter_is_named(service):
    edit(service / "library_copy" / "handlers.py", "def get_book(book_id):", "def get_book():")
    message = start_error(service)
    assert "does not accept the path parameter 'bookId'" in message and "book_id" in message


def test_undeclared_path_parameter(service):
    edit(service / "apis" / "library.yaml", "  /crash:\n", "  /crash/{when}:\n")
    message = start_error(service)
    assert "Path parameter 'when' used is not documented" in message
    assert "paths./crash/{when} (line " in message, message


def test_duplicate_routes_across_specs(service):
    (service / "apis" / "other.yaml").write_text(
        "swagger: '2.0'\ninfo: {title: o, version: '1'}\nbasePath: /api/v2\npaths:\n"
        f"  /crash:\n    get:\n      x-bind-server: {_package(service / 'server.py')}.handlers.crash\n"
        "      responses: {200: {description: x}}\n"
    )
    edit(
        service / "server.py", 'api.start(serve="library")', 'api.start(serve=["library", "other"])'
    )
    result = run_server(service)
    assert result.returncode != 0
    assert "duplicate route GET /api/v2/crash" in result.stderr and "library.yaml" in result.stderr


def test_conflicting_definitions_name_both_files(service):
    (service / "apis" / "zeta.yaml").write_text(
        "swagger: '2.0'\ninfo: {title: z, version: '1'}\npaths: {}\n"
        "definitions:\n  Author:\n    type: object\n    properties: {name: {type: integer}}\n"
    )
    message = start_error(service)
    assert "zeta.yaml" in message and "library.yaml" in message and "'Author'" in message


def test_identical_definitions_are_merged(service):
    (service / "apis" / "zeta.yaml").write_text(
        "swagger: '2.0'\ninfo: {title: z, version: '1'}\npaths: {}\n"
        "definitions:\n  Author:\n    type: object\n    required: [name]\n    properties:\n"
        "      name: {type: string}\n      born: {type: integer, format: int32}\n"
    )
    build_app(str(service), serve="library")
    from pymacaron.apipool import ApiPool

    assert ApiPool.zeta.model.Author is ApiPool.library.model.Author


def test_missing_env_secret_is_named(service):
    env = {k: v for k, v in os.environ.items() if k != "JWT_SECRET"}
    result = subprocess.run(
        [sys.executable, "server.py", "--port", str(free_port())],
        cwd=service,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 2
    assert "JWT_SECRET" in result.stderr and "pym-config.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_traceback_unless_debug(service):
    edit(service / "pym-config.yaml", "name: library", "name: Library!")
    result = run_server(service)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("pymacaron: cannot start: ")
    assert "key 'name'" in result.stderr and "Traceback" not in result.stderr
    debug = run_server(service, "--debug")
    assert debug.returncode == 2 and "Traceback" in debug.stderr


def test_gunicorn_stops_with_the_message(service):
    edit(
        service / "apis" / "library.yaml",
        "x-bind-server: library_copy.handlers.get_book",
        "x-bind-server: library_copy.handlers.nothing_here",
    )
    result = subprocess.run(
        gunicorn_cmd(free_port(), workers=1),
        cwd=service,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "cannot start" in result.stderr and "nothing_here" in result.stderr


def test_pym_check_command(service):
    pym = os.path.join(os.path.dirname(sys.executable), "pym")
    ok = subprocess.run(
        [pym, "check", "--dir", str(service)], capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0 and ok.stdout.startswith("ok: "), ok.stderr
    edit(service / "apis" / "library.yaml", "maxLength: 20", "maxLength: twenty")
    bad = subprocess.run(
        [pym, "check", "--dir", str(service)], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "library.yaml" in bad.stderr and "Traceback" not in bad.stderr


def test_pym_check_checks_every_stage_file_and_records_them(service, tmp_path):
    """`pym check` (the image build) also reads pym-config.<stage>.yaml: a broken one fails
    the build naming the file and key; good ones are recorded, so no stage's start pays the
    config validator again."""
    pym = os.path.join(os.path.dirname(sys.executable), "pym")
    cache = tmp_path / "records"
    env = dict(os.environ, PYM_CACHE_DIR=str(cache))
    live = service / "pym-config.live.yaml"
    live.write_text((service / "pym-config.yaml").read_text() + "response_validation: often\n")
    bad = subprocess.run(
        [pym, "check", "--dir", str(service)], capture_output=True, text=True, timeout=60, env=env
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr, bad.stderr
    assert "pym-config.live.yaml" in bad.stderr and "response_validation" in bad.stderr
    live.write_text((service / "pym-config.yaml").read_text())
    ok = subprocess.run(
        [pym, "check", "--dir", str(service)], capture_output=True, text=True, timeout=60, env=env
    )
    assert ok.returncode == 0, ok.stderr
    assert len(list((cache / "specs").glob("config-*.json"))) == 2  # pym-config.yaml, live
