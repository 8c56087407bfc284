"""The real ``miniflow`` command, run in a subprocess: every flag and every bad input."""

import fcntl
import json
import os
import pty
import shutil
import struct
import subprocess
import sys
import termios
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


def fails(*args, message, **kwargs):
    """Exit code 2, the message on stderr, no traceback, nothing on stdout."""
    result = run(*args, **kwargs)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
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
    assert result.returncode == 0 and "train" in result.stdout and "demo" in result.stdout


def test_no_command_is_a_usage_error():
    fails(message="required: COMMAND")


def test_demo_prints_the_seeds_gradients():
    result = run("demo")
    assert result.returncode == 0 and result.stderr == ""
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
    assert len(epochs) == 100 and epochs[0].startswith("Epoch: 1, Loss: ")
    network = next(line for line in lines if line.startswith("network")).split()
    baseline = next(line for line in lines if line.startswith("mean baseline")).split()
    test_r2, baseline_r2 = float(network[-1]), float(baseline[-1])
    assert test_r2 > 0.3 and abs(baseline_r2) < 0.05
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
    assert result.returncode == 0 and result.stderr == ""
    assert "Epoch:" not in result.stdout and "Training on" not in result.stdout
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
    assert "step" in text and "loss=" in text and "/64" in text  # 2 epochs x 32 steps
    assert "Epoch: 2" in result.stdout  # the epoch lines stay on stdout


@pytest.mark.parametrize(
    "flag, value, key, expected",
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
    "args, message",
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
    assert results["features"] == ["x1", "x2", "noise"] and results["target"] == "y"
    assert results["rows"] == {"train": 64, "test": 16}
    assert results["data"] == str(csv_file)
    assert results["network"]["test"]["r2"] > 0.5 > results["baseline"]["test"]["r2"]


def test_data_needs_target(csv_file):
    fails("train", "--data", csv_file, message="--data needs --target COLUMN")


@pytest.mark.parametrize(
    "text, message",
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
    assert (width, height) == (700, 420) and len(data) > 10_000


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
    "args, message",
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
    assert evaluated["settings"]["hidden"] == 6 and evaluated["loss"]["train"] == []
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
    "content, message",
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
