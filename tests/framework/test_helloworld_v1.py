"""The original pymacaron-helloworld (v1 layout, placeholder deploy values in its
pym-config.yaml) serves and passes its own acceptance tests (issue 15)."""

from __future__ import annotations

import os

import pytest

from tests.conftest import FIXTURES
from tests.reliability.support import pym

HELLO = os.path.join(FIXTURES, "helloworld")
SECRET = {"PYM_JWT_SECRET": "helloworld-secret-long-enough-for-hs256-xx"}


@pytest.mark.slow
def test_helloworld_serves_and_passes_its_acceptance_tests():
    result = pym("acceptance", "--local", "--dir", HELLO, env=SECRET, timeout=180)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "6 passed" in output, output[-2000:]


def test_helloworld_passes_pym_check_but_synth_refuses_its_placeholder_cert():
    from pymacaron.exceptions import StartupError
    from pymacaron_kit.config import load_service_config

    result = pym("check", "--dir", HELLO, env=SECRET, cwd=HELLO)
    assert result.returncode == 0 and "ok:" in result.stdout, result.stdout + result.stderr
    with pytest.raises(StartupError) as e:
        load_service_config(os.path.join(HELLO, "pym-config.yaml"))
    assert "key 'aws_cert_arn' (line 7)" in str(e.value) and "must match the pattern" in str(
        e.value
    ), str(e.value)
