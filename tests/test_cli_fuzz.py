"""``miniflow train`` fed generated flag values, CSV files and model files.

Every run must end in exit 0 with finite metrics, or exit 2 with exactly one line on stderr:
never a traceback, a hang, unbounded memory, or a change to a file it was not asked to write.
Flags run in-process (fast); files run in a subprocess under a timeout and an address-space
limit, since a file is where a hostile size hides.
"""

import contextlib
import hashlib
import io
import json
import math
import resource
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from miniflow.cli import main
from miniflow.training import Model, build_network

# a run may use this much address space: the interpreter, numpy and the thread pools take
# about 250 MB, the command's own arrays at the caps a few hundred more
MEMORY_LIMIT = 1 << 30
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI stays reproducible
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

junk = st.text(max_size=6)
whole = st.one_of(st.integers(-3, 40), st.integers(10**4, 10**13)).map(str)
real = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e-300", "0.5", "1e300", "3", "100"]),
)
FLAGS = {
    "--epochs": st.one_of(st.integers(0, 3).map(str), junk),
    "--batch-size": st.one_of(whole, junk),
    "--learning-rate": st.one_of(real, junk),
    "--hidden": st.one_of(whole, junk),
    "--seed": st.one_of(st.integers(-2, 2**70).map(str), junk),
    "--test-fraction": st.one_of(real, junk),
    "--sampling": st.sampled_from(["bootstrap", "shuffle", "stratified"]),
    "--dtype": st.sampled_from(["float64", "float32", "float16"]),
}


def snapshot(folder):
    """Each file's name and a hash of its content."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(Path(folder).iterdir())
    }


def check_outcome(code, stdout, stderr):
    """Exit 0 and finite metrics, or exit 2 and one line; nothing else."""
    assert "Traceback" not in stderr, stderr
    assert "Warning" not in stderr, stderr
    if code == 2:
        assert len(stderr.splitlines()) == 1, (stdout, stderr)
        assert stdout == "", (stdout, stderr)
        return
    assert code == 0, (code, stderr)
    results = json.loads(stdout)
    assert all(math.isfinite(v) for v in results["loss"]["train"] + results["loss"]["test"])
    for split in ("train", "test"):
        metrics = results["network"][split]
        assert math.isfinite(metrics["mse"])
        assert metrics["r2"] is None or math.isfinite(metrics["r2"])


def check_changes(before, after, saved):
    """Only the --save target may be new or different."""
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert changed <= {saved}, changed


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz")
    (path / "keep.txt").write_text("not to be touched\n")
    return path


@given(flags=st.fixed_dictionaries({}, optional=FLAGS), save=st.booleans())
@EXAMPLES
def test_generated_flag_values(folder, flags, save):
    argv = ["train", "--json"] + [item for pair in flags.items() for item in pair]
    if save:
        argv += ["--save", str(folder / "model.npz")]
    before = snapshot(folder)
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(argv)
    check_outcome(code, stdout.getvalue(), stderr.getvalue())
    check_changes(before, snapshot(folder), "model.npz" if save and code == 0 else None)


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_limited(args, folder):
    """``python -m miniflow train --json ARGS`` under the memory limit and a timeout."""
    result = subprocess.run(
        [sys.executable, "-m", "miniflow", "train", "--json", *map(str, args)],
        cwd=folder,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        preexec_fn=limit_memory,
    )
    return result.returncode, result.stdout, result.stderr


cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["", " ", "NaN", "-inf", "1e999", "abc", '"1"', '"', "1;5", "0x10", "١٢"]),
    st.text(max_size=4),
)
header = st.lists(st.one_of(st.sampled_from(["a", "b", "y", "", " y "]), junk), max_size=4)


@st.composite
def csv_bytes(draw):
    names = draw(header)
    rows = draw(st.lists(st.lists(cell, max_size=5), max_size=12))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(",".join(row) for row in [names, *rows]) + newline
    prefix = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))  # a byte-order mark
    suffix = draw(st.sampled_from([b"", b"\x00", b"\xff\xfe", b"1,2,3\n" * 3]))
    return prefix + text.encode("utf-8", "surrogatepass") + suffix


@given(data=csv_bytes())
@EXAMPLES
def test_generated_csv_files(folder, data):
    (folder / "data.csv").write_bytes(data)
    before = snapshot(folder)
    code, stdout, stderr = run_limited(
        ["--data", "data.csv", "--target", "y", "--epochs", 2, "--batch-size", 4], folder
    )
    check_outcome(code, stdout, stderr)
    check_changes(before, snapshot(folder), None)


@pytest.fixture(scope="module")
def model_bytes():
    """A valid saved model of the diabetes data, as bytes."""
    from miniflow.datasets import load_diabetes
    from miniflow.training import Standardiser

    X, y, names, target = load_diabetes()
    net = build_network(10, 3, rng=np.random.default_rng(0))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.npz"
        Model(net, Standardiser.fit(X), Standardiser.fit(y), names, target).save(path)
        return path.read_bytes()


MEMBERS = [
    "format",
    "hidden",
    "W1",
    "b1",
    "W2",
    "b2",
    "x_mean",
    "x_scale",
    "y_mean",
    "y_scale",
    "feature_names",
    "target_name",
]
replacement = st.one_of(
    st.sampled_from(
        [
            np.zeros(3),
            np.array(0.0),
            np.array(-1.0),
            np.array(np.nan),
            np.array("x"),
            np.ones((10, 3), np.float32),
            np.ones((3, 1), int),
            np.array(3),
            np.array(10**6),
        ]
    ),
    # a header that declares a huge array over a few bytes
    st.tuples(st.integers(1, 10**12), st.integers(1, 10**12)),
)


def npy(value):
    buffer = io.BytesIO()
    if isinstance(value, tuple):
        header = {"descr": "<f8", "fortran_order": False, "shape": value}
        np.lib.format.write_array_header_1_0(buffer, header)
        buffer.write(bytes(16))
    else:
        np.lib.format.write_array(buffer, value)
    return buffer.getvalue()


@st.composite
def broken_model(draw, valid):
    kind = draw(st.sampled_from(["truncate", "flip", "zip field", "replace", "drop"]))
    if kind == "zip field":
        # a zip header's flags or compression method (encrypted, an unknown method...)
        data = bytearray(valid)
        signature, offset = draw(
            st.sampled_from([(b"PK\x01\x02", 8), (b"PK\x01\x02", 10), (b"PK\x03\x04", 6)])
        )
        start = data.find(signature)
        data[start + offset : start + offset + 2] = draw(st.integers(0, 65535)).to_bytes(
            2, "little"
        )
        return bytes(data)
    if kind == "truncate":
        return valid[: draw(st.integers(0, len(valid) - 1))]
    if kind == "flip":
        data = bytearray(valid)
        for _ in range(draw(st.integers(1, 3))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    with zipfile.ZipFile(io.BytesIO(valid)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    key = draw(st.sampled_from(MEMBERS)) + ".npy"
    if kind == "drop":
        del members[key]
    else:
        members[key] = npy(draw(replacement))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@given(data=st.data())
@EXAMPLES
def test_generated_model_files(folder, model_bytes, data):
    (folder / "model.npz").write_bytes(data.draw(broken_model(model_bytes)))
    before = snapshot(folder)
    epochs = data.draw(st.sampled_from([0, 1]))
    code, stdout, stderr = run_limited(["--epochs", epochs, "--load", "model.npz"], folder)
    check_outcome(code, stdout, stderr)
    check_changes(before, snapshot(folder), None)
