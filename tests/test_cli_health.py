"""``miniflow train --health``: findings as they first appear, a summary, JSON, the plot's panel."""

import json
import re
import struct
import subprocess
import sys

import pytest


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "miniflow", "train", *map(str, args)],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=120,
    )


def test_default_training_with_health_ends_with_a_summary_and_no_finding():
    result = run("--health", "--epochs", 3)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    start = lines.index("health (epoch 3, learning rate 0.01; guide: update:data about 10^-3)")
    assert [line.split()[0] for line in lines[start + 2 : start + 7]] == [
        "W1",
        "b1",
        "W2",
        "b2",
        "s1",
    ]
    assert lines[-1] == "no findings in any epoch"
    assert not any(line.startswith("Health: ") for line in lines)


def test_a_learning_rate_of_10_prints_its_findings_before_the_divergence_stops_it():
    result = run("--health", "--epochs", 3, "--learning-rate", 10)
    assert result.returncode == 2
    assert "training diverged" in result.stderr
    lines = result.stdout.splitlines()
    health = [line for line in lines if line.startswith("Health: ")]
    assert any(
        line.startswith("Health: W2: updates are 10^")
        and line.endswith("lower the learning rate (since epoch 1)")
        for line in health
    ), health
    assert any(line.startswith("Health: s1: ") and "saturated" in line for line in health)
    # printed in the first epoch, before its loss line would have been
    assert not any(line.startswith("Epoch: ") for line in lines)


def test_json_holds_each_epochs_figures_and_the_findings():
    result = run("--health", "--epochs", 2, "--json")
    assert result.returncode == 0, result.stderr
    health = json.loads(result.stdout)["health"]
    assert health["findings"] == []
    assert [e["epoch"] for e in health["epochs"]] == [1, 2]
    for epoch in health["epochs"]:
        assert epoch["update_ratio_log10"]["b1"] is None  # started at zero
        assert -4 < epoch["update_ratio_log10"]["W1"] < -2
        for name in ("W1", "b1", "W2", "b2"):
            # the median step's update is the learning rate times its gradient
            assert epoch["update"][name] == pytest.approx(0.01 * epoch["gradient"][name])
        assert 0 <= epoch["saturated"]["s1"] < 0.25
    assert "health" not in json.loads(run("--epochs", 1, "--json").stdout)


def png_size(path):
    with open(path, "rb") as file:
        header = file.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_plot_gains_a_panel_of_update_ratios(tmp_path):
    plain, watched = tmp_path / "plain.png", tmp_path / "health.png"
    assert run("--epochs", 2, "--quiet", "--plot", plain).returncode == 0
    assert run("--epochs", 2, "--quiet", "--health", "--plot", watched).returncode == 0
    (width, height), (width2, height2) = png_size(plain), png_size(watched)
    assert width2 == width
    assert height2 > 1.5 * height


@pytest.mark.parametrize("quiet", ["--json", "--quiet"])
def test_a_divergence_without_the_health_lines_names_the_findings_in_its_error(quiet):
    result = run("--health", "--epochs", 3, "--learning-rate", 10, quiet)
    assert result.returncode == 2
    assert result.stdout == ""  # no half a JSON document
    # one line, as every error: the divergence, then each finding so far
    (error,) = result.stderr.splitlines()
    assert error.startswith("miniflow train: error: training diverged: the loss reached ")
    divergence, *findings = error.split("; health: ")
    assert divergence.endswith("try a smaller --learning-rate than 10")
    assert any(
        f.startswith("W2: updates are 10^")
        and f.endswith("lower the learning rate (since epoch 1)")
        for f in findings
    ), findings
    assert any(f.startswith("s1: ") and "saturated" in f for f in findings), findings


def epoch_ticks(svg):
    """The tick labels of the two panels' epoch axes (matplotlib's SVG carries each text as a
    comment, in drawing order: the loss panel's x ticks first, the ratio panel's after the
    loss panel's legend)."""
    texts = re.findall(r"<!-- (.*?) -->", svg)
    last_epoch = len(texts) - 1 - texts[::-1].index("epoch")
    return texts[: texts.index("epoch")], texts[texts.index("mean baseline, test") + 1 : last_epoch]


@pytest.mark.parametrize(("epochs", "ticks"), [(1, ["1"]), (3, ["1", "2", "3"])])
def test_the_plots_epochs_are_whole_and_each_is_marked(tmp_path, epochs, ticks):
    path = tmp_path / "health.svg"
    assert run("--epochs", epochs, "--quiet", "--health", "--plot", path).returncode == 0
    svg = path.read_text(encoding="utf-8")
    assert epoch_ticks(svg) == (ticks, ticks)
    # each epoch a dot: a line through one point (--epochs 1) draws nothing
    assert re.search(r'<path id="m\w+" d="M 0 [\d.]+ \nC ', svg), "no round marker"
