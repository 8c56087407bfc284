"""The real ``miniflow`` command, run in a subprocess: every flag and every bad input."""

import fcntl
import json
import os
import pty
import shlex
import shutil
import signal
import stat
import struct
import subprocess
import sys
import termios
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest


def run(*args, cwd=None, stderr=subprocess.PIPE, code=None):
    """``python -m miniflow ARGS``; ``code`` replaces the command with a ``-c`` program."""
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "miniflow"]
    return subprocess.run(
        [*command, *map(str, args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=stderr,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=120,
    )


def run_json(*args, **kwargs):
    result = run("train", "--json", *args, **kwargs)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def fails(*args, message, stdout="", **kwargs):
    """Exit code 2, the message as the one line on stderr, nothing (or ``stdout``) on stdout."""
    result = run(*args, **kwargs)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stdout.startswith(stdout)
    assert stdout or result.stdout == ""
    return result


@pytest.fixture(scope="module")
def two_epochs():
    """The JSON of a default run cut to two epochs, to compare flags against."""
    return run_json("--epochs", 2)


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory):
    """A small learnable CSV: y depends on x1 and x2, not on noise."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((80, 3))
    y = np.tanh(x[:, 0]) + 0.5 * x[:, 1] + 0.05 * rng.standard_normal(80)
    path = tmp_path_factory.mktemp("csv") / "toy.csv"
    rows = "\n".join(",".join(f"{v:.6f}" for v in row) for row in np.column_stack([x, y]))
    path.write_text("x1,x2,noise,y\n" + rows + "\n")
    return path


def test_console_script_is_installed_beside_python():
    script = shutil.which("miniflow", path=str(Path(sys.executable).parent))
    assert script is not None
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "train" in result.stdout
    assert "demo" in result.stdout


def test_a_bare_miniflow_prints_the_help_and_exits_0():
    result = run()
    assert result.returncode == 0, result.stderr
    assert result.stdout == run("--help").stdout
    assert result.stdout.startswith("usage: miniflow")
    for command in ("demo", "train", "predict", "graph"):
        assert f"    {command} " in result.stdout
    assert "Without a command, miniflow prints this help and exits 0" in result.stdout
    assert result.stderr == ""


def test_demo_prints_the_seeds_gradients():
    result = run("demo")
    assert result.returncode == 0
    assert result.stderr == ""
    assert "cost: 2.49994989" in result.stdout
    for number in ("-3.34017280e-05", "0.9999833", "5.01028709e-05", "-5.01028709e-05"):
        assert number in result.stdout


def test_default_train_learns_and_beats_the_mean_baseline():
    result = run("train")
    assert result.returncode == 0
    assert result.stderr == ""  # no progress bar: stderr is not a terminal
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Training on the diabetes data: 354 train rows, 88 test rows")
    epochs = [line for line in lines if line.startswith("Epoch: ")]
    assert len(epochs) == 100
    assert epochs[0].startswith("Epoch: 1, Loss: ")
    network = next(line for line in lines if line.startswith("network")).split()
    baseline = next(line for line in lines if line.startswith("mean baseline")).split()
    test_r2, baseline_r2 = float(network[-1]), float(baseline[-1])
    assert test_r2 > 0.3
    assert abs(baseline_r2) < 0.05
    assert "R2" in result.stdout


def test_json_is_one_object_with_the_metrics():
    results = run_json("--epochs", 3)
    assert set(results) >= {"settings", "loss", "network", "baseline", "rows", "features"}
    assert results["settings"] == {
        "epochs": 3,
        "batch_size": 11,
        "learning_rate": 0.01,
        "hidden": 10,
        "seed": 0,
        "sampling": "bootstrap",
        "dtype": "float64",
        "test_fraction": 0.2,
        "load": None,
    }
    assert len(results["loss"]["train"]) == len(results["loss"]["test"]) == 3
    assert results["rows"] == {"train": 354, "test": 88}
    assert results["baseline"]["train"]["r2"] == pytest.approx(0, abs=1e-12)
    assert results["network"]["test"]["r2"] > results["baseline"]["test"]["r2"]


def test_same_seed_same_numbers_other_seed_other_numbers():
    first = run("train", "--json", "--epochs", 2, "--seed", 7).stdout
    assert first == run("train", "--json", "--epochs", 2, "--seed", 7).stdout
    assert json.loads(first)["loss"] != run_json("--epochs", 2, "--seed", 8)["loss"]


def test_quiet_prints_only_the_report():
    result = run("train", "--epochs", 2, "--quiet")
    assert result.returncode == 0
    assert result.stderr == ""
    assert "Epoch:" not in result.stdout
    assert "Training on" not in result.stdout
    assert result.stdout.startswith("Trained 2 epochs in ")
    assert "mean baseline" in result.stdout


def test_progress_bar_shows_the_loss_on_a_terminal():
    main, replica = pty.openpty()
    # a new pseudo-terminal is 0 columns wide, where tqdm draws nothing
    fcntl.ioctl(replica, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    with os.fdopen(main, "rb", buffering=0) as terminal:
        with os.fdopen(replica, "wb") as stderr:
            result = run("train", "--epochs", 2, stderr=stderr)
        output = b""
        while True:
            try:
                chunk = terminal.read(4096)
            except OSError:  # Linux: the other end is closed and everything was read
                break
            if not chunk:
                break
            output += chunk
    assert result.returncode == 0
    text = output.decode(errors="replace")
    assert "step" in text
    assert "loss=" in text
    assert "/64" in text
    assert "Epoch: 2" in result.stdout  # the epoch lines stay on stdout


@pytest.mark.parametrize(
    ("flag", "value", "key", "expected"),
    [
        ("--batch-size", 50, "batch_size", 50),
        ("--learning-rate", 0.05, "learning_rate", 0.05),
        ("--hidden", 4, "hidden", 4),
        ("--sampling", "shuffle", "sampling", "shuffle"),
        ("--dtype", "float32", "dtype", "float32"),
        ("--test-fraction", 0.5, "test_fraction", 0.5),
    ],
)
def test_each_training_flag_is_used(two_epochs, flag, value, key, expected):
    results = run_json("--epochs", 2, flag, value)
    assert results["settings"][key] == expected
    assert results["loss"]["train"] != two_epochs["loss"]["train"]


def test_epochs_flag():
    assert len(run_json("--epochs", 5)["loss"]["train"]) == 5


def test_test_fraction_sets_the_split():
    assert run_json("--epochs", 1, "--test-fraction", 0.5)["rows"] == {"train": 221, "test": 221}


def test_float32_is_close_to_float64(two_epochs):
    f64 = two_epochs["network"]["test"]["mse"]
    f32 = run_json("--epochs", 2, "--dtype", "float32")["network"]["test"]["mse"]
    assert f32 == pytest.approx(f64, rel=1e-3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--epochs", "-1"], "argument --epochs: must be at least 0"),
        (["--epochs", "ten"], "argument --epochs: 'ten' is not a whole number"),
        (["--batch-size", "0"], "argument --batch-size: must be at least 1"),
        (["--learning-rate", "-0.1"], "argument --learning-rate: must be a positive number"),
        (["--learning-rate", "nan"], "argument --learning-rate: must be a positive number"),
        (["--learning-rate", "fast"], "'fast' is not a number"),
        (["--hidden", "0"], "argument --hidden: must be at least 1"),
        (["--seed", "-3"], "argument --seed: must be at least 0"),
        (["--sampling", "stratified"], "argument --sampling: invalid choice"),
        (["--dtype", "float16"], "argument --dtype: invalid choice"),
        (["--test-fraction", "0"], "argument --test-fraction: must be a positive number"),
        (["--test-fraction", "1"], "argument --test-fraction: must be between 0 and 1"),
        (["--unknown"], "unrecognized arguments: --unknown"),
        (["--target", "bmi"], "--target names a column of --data"),
        (["--learning-rate", "1000", "--epochs", "3", "--quiet"], "training diverged"),
    ],
)
def test_bad_flag_values_exit_2_with_a_message(args, message):
    fails("train", *args, message=message)


def test_data_and_target_train_on_a_csv(csv_file):
    results = run_json(
        "--data",
        csv_file,
        "--target",
        "y",
        "--epochs",
        40,
        "--batch-size",
        8,
        "--learning-rate",
        0.1,
    )
    assert results["features"] == ["x1", "x2", "noise"]
    assert results["target"] == "y"
    assert results["rows"] == {"train": 64, "test": 16}
    assert results["data"] == str(csv_file)
    assert results["network"]["test"]["r2"] > 0.5 > results["baseline"]["test"]["r2"]


def test_data_needs_target(csv_file):
    fails("train", "--data", csv_file, message="--data needs --target COLUMN")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "no such file"),
        ("", "is empty"),
        ("a,b,y\n", "no data rows"),
        ("a,b,y\n1,2,3\n", "single data row"),
        ("a,b,price\n1,2,3\n4,5,6\n", "no column 'y'; its columns are: a, b, price"),
        ("a,b,y\n1,2,3\n4,five,6\n", "row 2 (line 3), column 'b': 'five' is not a number"),
        ("a,b,y\n1,2,3\n4,2,6\n", "column 'b' has the same value in every row"),
        ("a,b,y\n1,2,3\n4,NaN,6\n", "row 2 (line 3), column 'b' is NaN"),
        ("a,b,y\n1,2,3\n4,,6\n", "row 2 (line 3), column 'b' is empty (a missing value)"),
        ("a,b,y\n1,2,3\n4,5\n", "row 2 (line 3) has 2 cells but the header has 3 columns"),
    ],
)
def test_bad_csv_files_exit_2_and_name_the_problem(tmp_path, text, message):
    path = tmp_path / "data.csv"
    if text is not None:
        path.write_text(text)
    result = fails("train", "--data", path, "--target", "y", message=message)
    assert str(path) in result.stderr


def test_too_few_rows_for_the_split(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,y\n1,2\n3,5\n")
    fails("train", "--data", path, "--target", "y", message="training needs at least two")


def test_a_folder_as_data(tmp_path):
    fails("train", "--data", tmp_path, "--target", "y", message="is a directory")


def test_plot_writes_a_png(tmp_path):
    path = tmp_path / "loss.png"
    result = run("train", "--epochs", 5, "--quiet", "--plot", path)
    assert result.returncode == 0, result.stderr
    assert f"Drew the loss curves in {path}" in result.stdout
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (700, 420)
    assert len(data) > 10_000


def test_plot_without_matplotlib_exits_2(tmp_path):
    # a None entry in sys.modules makes `import matplotlib` fail, as if it were not installed
    code = (
        "import sys; sys.modules['matplotlib'] = None; from miniflow.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    fails(
        "train",
        "--epochs",
        1,
        "--plot",
        tmp_path / "loss.png",
        code=code,
        message="--plot needs matplotlib: pip install 'miniflow-backprop[plot]'",
    )
    assert not (tmp_path / "loss.png").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--plot", "missing/loss.png"], "its folder missing does not exist"),
        (["--plot", "loss.xyz"], "cannot draw '.xyz'"),
        (["--plot", "loss.png", "--epochs", "0"], "it needs --epochs 1 or more"),
        (["--save", "missing/model.npz"], "its folder missing does not exist"),
        (["--save", "."], "--save .: is a folder"),
    ],
)
def test_bad_output_paths_exit_2_before_training(tmp_path, args, message):
    fails("train", "--epochs", 1, *args, cwd=tmp_path, message=message)


def test_save_then_load_evaluates_to_the_same_numbers(tmp_path):
    path = tmp_path / "model.npz"
    trained = run_json("--epochs", 5, "--hidden", 6, "--save", path)
    assert trained["saved"] == str(path)
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]  # no temporary file left
    evaluated = run_json("--epochs", 0, "--load", path)
    assert evaluated["settings"]["hidden"] == 6
    assert evaluated["loss"]["train"] == []
    assert evaluated["network"] == trained["network"]
    assert evaluated["network"]["test"]["mse"] == trained["network"]["test"]["mse"]


def test_load_continues_training(tmp_path):
    path = tmp_path / "model.npz"
    first = run_json("--epochs", 3, "--save", path)
    more = run_json("--epochs", 3, "--load", path, "--save", path)
    assert more["settings"]["load"] == str(path)
    # it starts where the first run ended, not from fresh random weights
    fresh = run_json("--epochs", 3, "--seed", 0)
    assert more["loss"]["train"][0] < first["loss"]["train"][0]
    assert more["loss"]["train"] != fresh["loss"]["train"]


def test_load_keeps_the_saved_dtype_unless_told(tmp_path):
    path = tmp_path / "model.npz"
    run_json("--epochs", 1, "--dtype", "float32", "--save", path)
    assert run_json("--epochs", 0, "--load", path)["settings"]["dtype"] == "float32"
    assert (
        run_json("--epochs", 0, "--load", path, "--dtype", "float64")["settings"]["dtype"]
        == "float64"
    )


def test_load_rejects_a_model_for_other_data(tmp_path, csv_file):
    path = tmp_path / "model.npz"
    run_json("--epochs", 1, "--save", path)
    fails(
        "train",
        "--epochs",
        0,
        "--load",
        path,
        "--data",
        csv_file,
        "--target",
        "y",
        message="predicts progression from age, sex",
    )
    fails(
        "train",
        "--epochs",
        0,
        "--load",
        path,
        "--hidden",
        3,
        message="has 10 hidden units, not --hidden 3",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"", "is not a saved MiniFlow model (.npz)"),
        (b"hello, not a model\n", "is not a saved MiniFlow model (.npz)"),
        (b"PK\x03\x04 truncated zip", "is not a saved MiniFlow model (.npz)"),
        ("npz", "is not a saved MiniFlow model (no 'miniflow-two-layer-v1' mark)"),
    ],
)
def test_bad_model_files_exit_2(tmp_path, content, message):
    path = tmp_path / "model.npz"
    if content == "npz":
        np.savez(path, W1=np.ones((10, 10)))
    elif content is not None:
        path.write_bytes(content)
    fails("train", "--epochs", 0, "--load", path, message=message)


def test_python_m_miniflow_and_the_script_agree():
    script = shutil.which("miniflow", path=str(Path(sys.executable).parent))
    by_script = subprocess.run(
        [script, "train", "--json", "--epochs", "1"], capture_output=True, text=True, timeout=60
    )
    assert by_script.returncode == 0
    assert json.loads(by_script.stdout) == run_json("--epochs", 1)


def test_version_names_the_package_and_the_kernels():
    from miniflow import __version__, _core

    result = run("--version")
    assert result.returncode == 0
    assert result.stdout == f"miniflow {__version__} (kernels: {_core.isa()})\n"


# ---- the files the command writes ----------------------------------------------------------


def make_fifo(folder):
    os.mkfifo(folder / "fifo")
    return folder / "fifo"


def make_device(folder):
    """A character device like /dev/null (1, 3), made here so a failure cannot harm the real one."""
    try:
        os.mknod(folder / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root (CAP_MKNOD)")
    return folder / "null"


OUTPUT_FLAGS = [
    ("train", "--epochs", 1, "--save"),
    ("train", "--epochs", 1, "--plot"),
    ("graph", "--out"),
]


@pytest.mark.parametrize("command", OUTPUT_FLAGS, ids=lambda c: c[-1])
@pytest.mark.parametrize(
    ("make", "kind"),
    [(make_fifo, "a FIFO (named pipe)"), (make_device, "a character device")],
    ids=["fifo", "device"],
)
def test_an_output_that_is_not_a_regular_file_is_refused_and_left_alone(
    tmp_path, command, make, kind
):
    path = make(tmp_path)
    # a suffix the command accepts, behind a link, so only the file type is wrong
    link = tmp_path / ("out.svg" if command[0] == "graph" else "out.png")
    link.symlink_to(path)
    before = os.stat(path)
    fails(*command, link, message=f"{command[-1]} {link}: is {kind}, not a regular file")
    after = os.stat(path)
    assert (after.st_mode, after.st_ino, after.st_rdev) == (
        before.st_mode,
        before.st_ino,
        before.st_rdev,
    )
    assert sorted(os.listdir(tmp_path)) == sorted([path.name, link.name])


def run_with_umask(mask, *args):
    return subprocess.run(
        [sys.executable, "-m", "miniflow", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(mask),
    )


@pytest.mark.parametrize(
    ("command", "name"),
    [(OUTPUT_FLAGS[0], "m.npz"), (OUTPUT_FLAGS[1], "loss.png"), (OUTPUT_FLAGS[2], "net.svg")],
    ids=lambda c: c[-1] if isinstance(c, tuple) else "",
)
def test_a_new_output_gets_the_umasks_mode(tmp_path, command, name):
    result = run_with_umask(0o027, *command, tmp_path / name)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o640
    assert os.listdir(tmp_path) == [name]


def test_a_replaced_model_keeps_its_mode(tmp_path):
    path = tmp_path / "m.npz"
    run_json("--epochs", 1, "--save", path)
    os.chmod(path, 0o644)  # saved models used to become 0600 whatever the umask
    result = run_with_umask(0o077, "train", "--epochs", 1, "--quiet", "--save", path)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


def test_a_name_at_the_length_limit_saves_and_one_past_it_is_refused(tmp_path):
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    longest = tmp_path / ("m" * (limit - 4) + ".npz")
    run_json("--epochs", 1, "--save", longest)
    assert os.listdir(tmp_path) == [longest.name]  # the temporary name fitted too
    fails(
        "train",
        "--epochs",
        1,
        "--save",
        tmp_path / ("m" * (limit + 1)),
        message="cannot be written: File name too long",
    )


@pytest.mark.parametrize("name", ["net.png", "net.pdf", "net"])
def test_graph_refuses_a_format_it_cannot_write(tmp_path, name):
    fails("graph", "--out", tmp_path / name, message="use .svg, .dot or .mmd")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "start"), [("net.svg", "<svg"), ("net.dot", "digraph"), ("net.mmd", "flowchart")]
)
def test_graph_writes_each_format_it_names(tmp_path, name, start):
    result = run("graph", "--out", tmp_path / name)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / name).read_text().lstrip().startswith(start)


def test_plot_without_a_suffix_writes_a_png_under_exactly_that_name(tmp_path):
    result = run("train", "--epochs", 2, "--quiet", "--plot", tmp_path / "loss")
    assert result.returncode == 0, result.stderr
    assert os.listdir(tmp_path) == ["loss"]
    assert (tmp_path / "loss").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_and_plot_to_one_file_is_refused(tmp_path):
    path = tmp_path / "out.png"
    fails("train", "--epochs", 1, "--save", path, "--plot", path, message="both name")
    assert os.listdir(tmp_path) == []


# ---- interrupted, and a reader that leaves -------------------------------------------------


@pytest.mark.parametrize(
    ("signum", "code", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
)
def test_ctrl_c_or_sigterm_while_training_exits_with_one_line_and_the_save_target_whole(
    tmp_path, signum, code, word
):
    path = tmp_path / "model.npz"
    run_json("--epochs", 1, "--save", path)
    saved = path.read_bytes()
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "miniflow", "train", "--epochs", "1000000", "--save", path],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not process.stdout.readline().startswith("Epoch: 2,"):
            pass
        process.send_signal(signum)
        _stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == code
    assert stderr == f"miniflow train: {word}\n"
    assert path.read_bytes() == saved
    assert os.listdir(tmp_path) == ["model.npz"]


@pytest.mark.parametrize(
    "args",
    [
        # more output than a pipe buffers, so the writer must still be writing when we leave
        ["train", "--epochs", 4000, "--batch-size", 354, "--sampling", "shuffle"],
        ["demo"],
    ],
    ids=["train", "demo"],
)
def test_a_reader_that_leaves_ends_the_command_quietly(args):
    with subprocess.Popen(
        [sys.executable, "-m", "miniflow", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        if args[0] == "train":
            assert process.stdout.readline().startswith(b"Training on")  # `| head -1`
        process.stdout.close()
        stderr = process.stderr.read()
        assert process.wait(timeout=120) == 141
    assert stderr == b""


# ---- hostile sizes and files ---------------------------------------------------------------


def test_a_batch_larger_than_the_data_is_cut_to_it():
    results = run_json("--epochs", 1, "--batch-size", 10**10)
    assert results["settings"]["batch_size"] == 354


@pytest.mark.parametrize(
    "command", [("train",), ("graph", "--out", "never.svg")], ids=["train", "graph"]
)
def test_a_huge_hidden_layer_is_refused_before_anything_is_allocated(tmp_path, command):
    fails(
        *command,
        "--hidden",
        10**10,
        cwd=tmp_path,
        message="needs arrays of 4,420,000,000,000 numbers",
    )
    assert os.listdir(tmp_path) == []


def test_a_device_is_read_only_up_to_the_cap_and_an_oversized_file_not_at_all(tmp_path):
    fails(
        "train",
        "--data",
        "/dev/zero",
        "--target",
        "y",
        message="/dev/zero: holds more than 100,000,000 characters",
    )
    big = tmp_path / "big.csv"
    with open(big, "wb") as file:
        file.truncate(100_000_001)  # sparse: takes no disk space
    fails("train", "--data", big, "--target", "y", message="is 100,000,001 bytes; MiniFlow reads")


def test_a_column_too_large_to_standardise_is_refused_by_name(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b,y\n" + "".join(f"{(-1) ** i * 1e308},{i},{i % 3}\n" for i in range(10)))
    fails("train", "--data", path, "--target", "y", message="column 'a' is too large to use")


def saved_model(tmp_path):
    path = tmp_path / "good.npz"
    run_json("--epochs", 1, "--save", path)
    with np.load(path) as file:
        return {key: file[key] for key in file.files}


def with_header(shape):
    """The bytes of an .npy file whose header declares ``shape`` float64 but holds 8 bytes."""
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue() + bytes(8)


def test_a_small_model_declaring_huge_arrays_is_refused_without_allocating(tmp_path):
    arrays = saved_model(tmp_path)
    hidden = 10_000_000  # W1 alone would be 800 MB; the file is a few KB
    arrays["hidden"] = np.array(hidden)
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key, value in arrays.items():
            shape = {"W1": (10, hidden), "b1": (hidden,), "W2": (hidden, 1)}.get(key)
            if shape is None:
                with archive.open(f"{key}.npy", "w") as member:
                    np.lib.format.write_array(member, value)
            else:
                archive.writestr(f"{key}.npy", with_header(shape))
    assert path.stat().st_size < 10_000
    # 600 MB of address space is enough for the command, and far too little for the arrays
    code = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (600 << 20, 600 << 20)); "
        "from miniflow.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    fails(
        "train",
        "--epochs",
        0,
        "--load",
        path,
        code=code,
        message="'W1.npy' declares a float64 array of shape (10, 10000000), more than the file",
    )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("x_scale", 0.0, "'x_scale' holds zero or negative values"),
        ("y_scale", -1.0, "'y_scale' holds zero or negative values"),
        ("y_scale", np.inf, "'y_scale' holds NaN or infinite values"),
    ],
)
def test_a_model_with_a_zero_negative_or_infinite_scale_is_refused(tmp_path, key, value, message):
    arrays = saved_model(tmp_path)
    arrays[key] = np.full_like(arrays[key], value)
    np.savez(tmp_path / "bad.npz", **arrays)
    fails("train", "--epochs", 0, "--load", tmp_path / "bad.npz", message=message)


# ---- diverging training --------------------------------------------------------------------


@pytest.mark.parametrize("rate", ["3", "1000", "1e300"])
def test_divergence_is_one_line_saying_what_to_try(rate):
    result = fails(
        "train",
        "--epochs",
        5,
        "--learning-rate",
        rate,
        message="training diverged: the loss reached ",
        stdout="Training on the diabetes data",
    )
    assert f"try a smaller --learning-rate than {float(rate):g}" in result.stderr
    assert "Warning" not in result.stderr
    assert max(map(len, result.stdout.splitlines())) <= 110


def test_huge_but_finite_numbers_print_in_a_short_format(tmp_path):
    arrays = saved_model(tmp_path)
    arrays["W2"] = arrays["W2"] * 1e100
    np.savez(tmp_path / "loud.npz", **arrays)
    result = run("train", "--epochs", 0, "--load", tmp_path / "loud.npz")
    assert result.returncode == 0
    assert result.stderr == ""
    network = next(line for line in result.stdout.splitlines() if line.startswith("network"))
    assert "e+" in network
    assert len(network) == 55


# ---- the shell's conventions: standard input, pipes, process substitution ------------------


def train_results(*args, **kwargs):
    """``train --json`` with the CSV fixture's target and a short run; ``data`` left out."""
    result = run_json("--target", "y", "--epochs", 3, *args, **kwargs)
    del result["data"]
    return result


def run_input(*args, input, stdin=None):
    """``python -m miniflow ARGS`` with ``input`` (bytes) on standard input."""
    return subprocess.run(
        [sys.executable, "-m", "miniflow", *map(str, args)],
        input=input,
        capture_output=True,
        timeout=120,
    )


def test_data_dash_reads_standard_input_as_the_file_would_be_read(csv_file):
    by_file = train_results("--data", csv_file)
    result = run_input(
        "train",
        "--json",
        "--data",
        "-",
        "--target",
        "y",
        "--epochs",
        3,
        input=csv_file.read_bytes(),
    )
    assert result.returncode == 0, result.stderr
    by_stdin = json.loads(result.stdout)
    assert by_stdin.pop("data") == "-"
    assert by_stdin == by_file
    assert by_file["rows"] == {"train": 64, "test": 16}


def test_data_dash_names_standard_input_in_its_errors():
    result = run_input("train", "--data", "-", "--target", "y", input=b"a,b\n1,2\n3,4\n")
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "miniflow train: error: standard input: no column 'y'; its columns are: a, b\n"
    )


def test_data_dash_with_standard_input_closed_says_so(csv_file):
    result = run(
        "train",
        "--data",
        "-",
        "--target",
        "y",
        code="import os, sys; os.close(0); "
        "from miniflow.cli import main; sys.exit(main(sys.argv[1:]))",
    )
    assert result.returncode == 2
    assert result.stderr == "miniflow train: error: --data -: there is no standard input to read\n"


def write_later(path, data):
    """A thread that opens the FIFO ``path`` for writing (which waits for a reader) and writes."""

    def write():
        with open(path, "wb") as fifo:
            fifo.write(data)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


@pytest.mark.posix_only
def test_a_fifo_is_read_like_the_file(tmp_path, csv_file):
    fifo = make_fifo(tmp_path)
    writer = write_later(fifo, csv_file.read_bytes())
    by_fifo = train_results("--data", fifo)
    writer.join(timeout=10)
    assert by_fifo == train_results("--data", csv_file)


@pytest.mark.posix_only
@pytest.mark.skipif(shutil.which("bash") is None, reason="process substitution needs bash")
def test_process_substitution_is_read_like_the_file(csv_file):
    # the rows of the file but one, as `grep` would pass them on: the same as a file of those rows
    command = (
        f"{shlex.quote(sys.executable)} -m miniflow train --json --target y --epochs 3 "
        f"--data <(grep -v '^-0.1' {shlex.quote(str(csv_file))})"
    )
    result = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    by_pipe = json.loads(result.stdout)
    assert by_pipe.pop("data").startswith("/dev/fd/")
    lines = csv_file.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith("-0.1")]
    assert 0 < len(lines) - len(kept) < 20  # the filter really dropped rows
    filtered = csv_file.parent / "filtered.csv"
    filtered.write_text("".join(kept))
    assert by_pipe == train_results("--data", filtered)


@pytest.mark.posix_only
def test_a_fifo_that_nothing_writes_to_gives_up_after_the_timeout(tmp_path):
    started = time.monotonic()
    fails(
        "train",
        "--data",
        make_fifo(tmp_path),
        "--target",
        "y",
        "--data-timeout",
        "0.5",
        message="fifo: nothing to read for 0.5 s (is anything writing to it?); "
        "--data-timeout SECONDS waits longer",
    )
    assert time.monotonic() - started < 60  # not the default 60 s wait


@pytest.mark.posix_only
def test_a_pipe_that_stops_sending_gives_up_after_the_timeout(tmp_path):
    # a header, then silence with the writer still there: the wait is per read, not only at open
    fifo = make_fifo(tmp_path)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "miniflow",
            "train",
            "--data",
            fifo,
            "--target",
            "y",
            "--data-timeout",
            "0.5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with open(fifo, "w") as writer:  # returns once the command has opened the FIFO
            writer.write("x,y\n1,2\n")
            writer.flush()
            _stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 2
    assert "nothing to read for 0.5 s" in stderr


@pytest.mark.posix_only
def test_ctrl_c_while_waiting_for_a_pipe_exits_130(tmp_path):
    fifo = make_fifo(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "miniflow", "train", "--data", fifo, "--target", "y"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with open(fifo, "w"):  # returns once the command has opened the FIFO, to wait on it
            time.sleep(0.2)
            process.send_signal(signal.SIGINT)
            _stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130
    assert stderr == "miniflow train: interrupted\n"


# ---- predict -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model(tmp_path_factory, csv_file):
    path = tmp_path_factory.mktemp("model") / "toy.npz"
    run_json(
        "--data", csv_file, "--target", "y", "--epochs", 40, "--batch-size", 8,
        "--learning-rate", 0.1, "--save", path,
    )  # fmt: skip
    return path


def numpy_prediction(model_path, rows):
    """The saved network's prediction for ``rows`` (a dict of columns), computed here in numpy."""
    with np.load(model_path) as m:
        X = np.column_stack([rows[name] for name in m["feature_names"]])
        X = (X - m["x_mean"]) / m["x_scale"]
        hidden = 1 / (1 + np.exp(-(X @ m["W1"] + m["b1"])))
        return (hidden @ m["W2"] + m["b2"]).reshape(-1) * m["y_scale"] + m["y_mean"]


def read_columns(path):
    header, *rows = path.read_text().splitlines()
    values = np.array([[float(v) for v in row.split(",")] for row in rows])
    return dict(zip(header.split(","), values.T))


def test_predict_writes_one_prediction_per_row_in_the_targets_units(model, csv_file):
    result = run("predict", "--load", model, "--data", csv_file)
    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    assert header == "y"
    predicted = np.array([float(line) for line in lines])
    columns = read_columns(csv_file)
    assert len(predicted) == len(columns["y"]) == 80
    np.testing.assert_allclose(predicted, numpy_prediction(model, columns), rtol=1e-12)
    # in y's units, and learnt: far closer to y than y's mean is
    assert np.mean((predicted - columns["y"]) ** 2) < 0.5 * np.var(columns["y"])


def test_predict_takes_the_columns_in_any_order_without_the_target(model, csv_file, tmp_path):
    columns = read_columns(csv_file)
    reordered = tmp_path / "new.csv"
    reordered.write_text(
        "noise,x2,x1\n"
        + "".join(
            f"{c},{b},{a}\n" for a, b, c in zip(columns["x1"], columns["x2"], columns["noise"])
        )
    )
    by_reordered = run("predict", "--load", model, "--data", reordered)
    assert by_reordered.returncode == 0, by_reordered.stderr
    assert by_reordered.stdout == run("predict", "--load", model, "--data", csv_file).stdout


def test_predict_reads_a_single_row(model, tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("x1,x2,noise\n0.5,-1.25,3\n")
    result = run("predict", "--load", model, "--data", one)
    assert result.returncode == 0, result.stderr
    expected = numpy_prediction(model, {"x1": [0.5], "x2": [-1.25], "noise": [3.0]})
    assert result.stdout.splitlines()[0] == "y"
    assert float(result.stdout.splitlines()[1]) == pytest.approx(expected[0], rel=1e-12)
    assert len(result.stdout.splitlines()) == 2


def test_predict_from_standard_input_and_from_a_process_substitution(model, csv_file):
    expected = run("predict", "--load", model, "--data", csv_file).stdout
    by_stdin = run_input("predict", "--load", model, "--data", "-", input=csv_file.read_bytes())
    assert by_stdin.returncode == 0, by_stdin.stderr
    assert by_stdin.stdout.decode() == expected
    if os.name == "posix" and shutil.which("bash"):
        command = (
            f"{shlex.quote(sys.executable)} -m miniflow predict --load {shlex.quote(str(model))} "
            f"--data <(cat {shlex.quote(str(csv_file))})"
        )
        by_pipe = subprocess.run(
            ["bash", "-c", command], capture_output=True, text=True, timeout=60
        )
        assert by_pipe.returncode == 0, by_pipe.stderr
        assert by_pipe.stdout == expected


def test_predict_out_writes_only_that_file_with_the_umasks_mode(model, csv_file, tmp_path):
    out = tmp_path / "predictions.csv"
    result = run_with_umask(0o027, "predict", "--load", model, "--data", csv_file, "--out", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote 80 predictions of y to {out}\n"
    assert os.listdir(tmp_path) == ["predictions.csv"]
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o640
    assert out.read_text() == run("predict", "--load", model, "--data", csv_file).stdout


def test_predict_out_refuses_a_fifo_and_leaves_no_file(model, csv_file, tmp_path):
    fifo = make_fifo(tmp_path)
    fails(
        "predict",
        "--load",
        model,
        "--data",
        csv_file,
        "--out",
        fifo,
        message=f"--out {fifo}: is a FIFO (named pipe), not a regular file",
    )
    assert os.listdir(tmp_path) == ["fifo"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "x1,x2\n1,2\n",
            "has no column 'noise'; the model predicts y from 3 columns: x1, x2, noise",
        ),
        (
            "x1,x2,noise,extra\n1,2,3,4\n",
            "has 4 columns, and the model does not use 'extra'; the model predicts y from 3 "
            "columns: x1, x2, noise",
        ),
        ("x1,x2,noise\n1,2\n", "row 1 (line 2) has 2 cells but the header has 3 columns"),
        ("x1,x2,noise\n1,2,oops\n", "row 1 (line 2), column 'noise': 'oops' is not a number"),
        ("x1,x2,noise\n", "has a header but no data rows"),
    ],
    ids=["missing", "unknown", "short-row", "not-a-number", "no-rows"],
)
def test_predict_refuses_data_that_does_not_fit_the_model_in_one_line(
    model, tmp_path, text, message
):
    path = tmp_path / "new.csv"
    path.write_text(text)
    fails("predict", "--load", model, "--data", path, message=f"{path}: {message}")


def test_predict_needs_load_and_data(model, csv_file, tmp_path):
    fails("predict", "--data", csv_file, message="the following arguments are required: --load")
    fails("predict", "--load", model, message="the following arguments are required: --data")
    fails(
        "predict",
        "--load",
        tmp_path / "missing.npz",
        "--data",
        csv_file,
        message="missing.npz: no such file",
    )
