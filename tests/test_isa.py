"""Which kernels run: ``miniflow.isa()`` and the ``MINIFLOW_ISA`` setting, in fresh processes
(the core reads the variable once)."""

import os
import subprocess
import sys

import pytest

REPORT = "import miniflow; print(miniflow.isa()); print(*miniflow._core.isa_names())"


def run_with_isa(value):
    env = {key: item for key, item in os.environ.items() if key != "MINIFLOW_ISA"}
    if value is not None:
        env["MINIFLOW_ISA"] = value
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", REPORT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    kernels, names = result.stdout.splitlines()
    return kernels, names.split(), result.stderr


def test_isa_is_public_and_names_a_kernel_of_this_machine():
    import miniflow

    assert "isa" in miniflow.__all__
    assert miniflow.isa() in miniflow._core.isa_names()
    assert miniflow._core.isa_names()[0] == "generic"


def test_without_a_request_the_best_kernels_run_silently():
    kernels, names, stderr = run_with_isa(None)
    assert stderr == ""
    assert kernels in names


def test_a_known_request_caps_the_kernels_silently():
    kernels, _, stderr = run_with_isa("generic")
    assert (kernels, stderr) == ("generic", "")


@pytest.mark.parametrize("value", ["garbage", "AVX2", "avx 2"])
def test_an_unknown_request_warns_once_naming_it_and_the_allowed_values(value):
    best, names, _ = run_with_isa(None)
    kernels, _, stderr = run_with_isa(value)
    assert kernels == best
    warnings = [line for line in stderr.splitlines() if "RuntimeWarning" in line]
    assert len(warnings) == 1, stderr
    assert f"MINIFLOW_ISA={value!r}" in warnings[0]
    assert ", ".join(names) in warnings[0]
