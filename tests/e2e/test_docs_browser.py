"""The docs page of a `pym new` repository in a real browser (Debian's chromium, headless,
driven by playwright without a browser download): "Try it out" on the public operation, then
Authorize with a `pym token` and "Try it out" on the authenticated one, from both
http://127.0.0.1:PORT/docs and http://localhost:PORT/docs of the server `pym run` started.
The response the page shows is asserted (status and body).
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.e2e.journey import Served, Steps, run
from tests.image.image_helpers import REPO, free_port

pytestmark = [pytest.mark.xdist_group("journey"), pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
# as root in a sandbox-less container; no background connections (the network is closed)
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STEPS = Steps("docs page")


@pytest.fixture(scope="module")
def served(kit, tmp_path_factory):
    where = tmp_path_factory.mktemp("docsbrowser")
    assert not str(where).startswith(REPO)
    run([str(kit["bin"] / "pym"), "new", "bookmarks"], cwd=str(where), env=kit["env"])
    repo = where / "bookmarks"
    env = {k: v for k, v in kit["env"].items() if not k.startswith(("JWT_", "PYM_"))}
    port = free_port()
    with STEPS("pym run"):
        server = Served([str(kit["bin"] / "pym"), "run", "--port", str(port)], str(repo), env,
                        port, str(where / "run.log")).wait(90)  # fmt: skip
    token = run([str(kit["bin"] / "pym"), "token", "ada"], cwd=str(repo), env=env).stdout.strip()
    yield server, token
    server.stop()
    print("\n" + STEPS.summary())


@pytest.fixture(scope="module")
def browser():
    assert shutil.which(CHROMIUM) or os.path.exists(CHROMIUM), (
        "chromium is not installed: run `make system-tools` (scripts/setup/system-tools.d)"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


def try_it_out(page, op_id: str) -> tuple[str, str]:
    """Expand the operation, Try it out, Execute: (status, body) as the page shows them."""
    op = page.locator(f"#operations-default-{op_id}")
    op.locator(".opblock-summary").first.click()
    op.locator("button.try-out__btn").click()
    op.locator("button.execute").click()
    status = op.locator(".live-responses-table .response .response-col_status").first
    status.wait_for(timeout=15_000)
    body = op.locator(".live-responses-table .response-col_description pre").first
    return status.inner_text().strip(), body.inner_text()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_try_it_out_and_authorize_from_either_host_name(served, browser, host):
    server, token = served
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        with STEPS(f"/docs from {host}: public operation"):
            page.goto(f"http://{host}:{server.port}/docs")
            page.locator("#operations-default-hello").wait_for(timeout=20_000)
            status, body = try_it_out(page, "hello")
        assert status == "200", (status, body, errors)
        assert '"message": "hello, world"' in body.replace('":"', '": "'), body

        with STEPS(f"/docs from {host}: authenticated operation before and after Authorize"):
            status, body = try_it_out(page, "whoami")
            assert status == "401" and "AUTHORIZATION_HEADER_MISSING" in body, (status, body)
            page.locator("button.authorize").first.click()
            dialog = page.locator(".auth-container").first
            # 127.0.0.1: as the scheme's description says; localhost: the bare token pasted
            dialog.locator("input").first.fill(f"Bearer {token}" if host == "127.0.0.1" else token)
            dialog.locator("button.authorize").click()
            page.locator("button.btn-done").first.click()
            op = page.locator("#operations-default-whoami")
            op.locator("button.execute").click()
            op.locator(".live-responses-table .response-col_status").first.wait_for()
            page.wait_for_function(
                "() => document.querySelector('#operations-default-whoami "
                ".live-responses-table .response .response-col_status')"
                ".innerText.trim() === '200'",
                timeout=15_000,
            )
            body = op.locator(".live-responses-table .response-col_description pre").first
            text = body.inner_text()
        assert '"user_id": "ada"' in text.replace('":"', '": "'), text
        assert not [e for e in errors if "Content Security Policy" in e], errors
    finally:
        context.close()
