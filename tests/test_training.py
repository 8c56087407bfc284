"""The training loop, its pieces, and saving and loading a model."""

import io
import os
import runpy
import stat
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from miniflow import MSE, Input, forward_and_backward, sgd_update
from miniflow._files import UnwritablePathError
from miniflow.datasets import load_diabetes
from miniflow.training import (
    Model,
    ModelFileError,
    Standardiser,
    batches,
    build_network,
    mse,
    predict,
    r2_score,
    split_indices,
    steps_per_epoch,
    train,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def diabetes():
    """Standardised diabetes features and target, split 80/20."""
    X, y, _, _ = load_diabetes()
    train_rows, test_rows = split_indices(len(y), 0.2, np.random.default_rng(0))
    sx, sy = Standardiser.fit(X[train_rows]), Standardiser.fit(y[train_rows])
    return (
        (sx.transform(X[train_rows]), sy.transform(y[train_rows])),
        (sx.transform(X[test_rows]), sy.transform(y[test_rows])),
    )


def test_build_network_is_the_lessons_graph():
    net = build_network(4, hidden=3, rng=np.random.default_rng(0))
    assert [t.name for t in net.trainables] == ["W1", "b1", "W2", "b2"]
    assert all(isinstance(t, Input) for t in net.trainables)
    assert net.W1.value.shape == (4, 3)
    assert net.b1.value.shape == (3,)
    assert net.W2.value.shape == (3, 1)
    assert net.b2.value.shape == (1,)
    assert isinstance(net.graph[-1], MSE)
    assert net.graph[-1] is net.cost
    assert net.graph[0] is net.X
    assert net.dtype == np.float64


def test_build_network_float32_and_given_weights_are_copied():
    weights = {"W1": np.ones((2, 3)), "b1": np.zeros(3), "W2": np.ones((3, 1)), "b2": np.zeros(1)}
    net = build_network(2, 3, dtype=np.float32, weights=weights)
    assert net.dtype == np.float32
    net.X.value, net.y.value = np.ones((5, 2), np.float32), np.ones(5, np.float32)
    train(
        net,
        np.ones((5, 2)),
        np.ones(5),
        epochs=1,
        learning_rate=0.1,
        rng=np.random.default_rng(0),
        batch_size=2,
    )
    assert net.W1.value.dtype == np.float32
    np.testing.assert_array_equal(weights["W1"], np.ones((2, 3)))  # the caller's array unchanged


def test_bootstrap_batches_are_the_lessons_resample():
    rng = np.random.default_rng(1)
    epoch = list(batches(100, 11, "bootstrap", rng))
    assert len(epoch) == 100 // 11 == steps_per_epoch(100, 11, "bootstrap")
    assert all(len(rows) == 11 and rows.min() >= 0 and rows.max() < 100 for rows in epoch)
    # drawn with replacement: some row repeats somewhere in 99 draws from 100
    assert len(np.unique(np.concatenate(epoch))) < 99
    assert len(list(batches(5, 11, "bootstrap", rng))) == 1


def test_shuffle_batches_visit_every_row_once_last_batch_short():
    epoch = list(batches(100, 11, "shuffle", np.random.default_rng(1)))
    assert [len(rows) for rows in epoch] == [11] * 9 + [1]
    assert len(epoch) == steps_per_epoch(100, 11, "shuffle")
    np.testing.assert_array_equal(np.sort(np.concatenate(epoch)), np.arange(100))


def test_unknown_sampling_is_an_error():
    with pytest.raises(ValueError, match="bootstrap, shuffle"):
        next(batches(10, 2, "stratified", np.random.default_rng(0)))


@pytest.mark.parametrize("sampling", ["bootstrap", "shuffle"])
def test_training_learns_and_beats_the_mean_baseline(diabetes, sampling):
    (X, y), test = diabetes
    rng = np.random.default_rng(0)
    net = build_network(X.shape[1], 10, rng=rng)
    history = train(net, X, y, epochs=30, learning_rate=0.01, rng=rng, sampling=sampling, test=test)
    assert len(history.train_loss) == len(history.test_loss) == 30
    assert history.train_loss[-1] < 0.7 * history.train_loss[0]
    assert r2_score(predict(net, test[0]), test[1]) > 0.3
    assert r2_score(np.full(len(test[1]), y.mean()), test[1]) < 0.05


def test_training_is_reproducible_from_the_seed(diabetes):
    def run(seed):
        rng = np.random.default_rng(seed)
        net = build_network(10, 10, rng=rng)
        return train(net, *diabetes[0], epochs=3, learning_rate=0.01, rng=rng).train_loss

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_callbacks_see_every_step_and_epoch(diabetes):
    X, y = diabetes[0]
    steps, epochs = [], []
    net = build_network(10, 4, rng=np.random.default_rng(0))
    history = train(
        net,
        X,
        y,
        epochs=2,
        learning_rate=0.01,
        rng=np.random.default_rng(0),
        batch_size=50,
        sampling="shuffle",
        on_step=steps.append,
        on_epoch=lambda *args: epochs.append(args),
    )
    assert len(steps) == 2 * steps_per_epoch(len(y), 50, "shuffle")
    assert [e[0] for e in epochs] == [1, 2]
    assert [e[2] for e in epochs] == [None, None]
    # the epoch's loss is the last running mean, the mean over every row seen
    assert epochs[-1][1] == steps[-1] == history.train_loss[-1]


def test_predict_returns_a_copy_not_the_graphs_buffer(diabetes):
    X, _ = diabetes[1]
    net = build_network(10, 10, rng=np.random.default_rng(0))
    first = predict(net, X)
    predict(net, X[::-1] + 1)
    np.testing.assert_array_equal(first, predict(net, X))
    assert first.shape == (len(X),)


def test_metrics():
    y = np.array([1.0, 2.0, 3.0])
    assert mse(np.array([1.0, 2.0, 5.0]), y) == pytest.approx(4 / 3)
    assert r2_score(y, y) == 1.0
    assert r2_score(np.full(3, 2.0), y) == 0.0
    assert np.isnan(r2_score(np.ones(2), np.ones(2)))


def test_standardiser_centres_and_scales_constant_columns_safely():
    values = np.array([[1.0, 5.0], [3.0, 5.0]])
    scaler = Standardiser.fit(values)
    np.testing.assert_array_equal(scaler.transform(values), [[-1.0, 0.0], [1.0, 0.0]])


def test_split_indices():
    train_rows, test_rows = split_indices(442, 0.2, np.random.default_rng(0))
    assert len(test_rows) == 88
    assert len(train_rows) == 354
    np.testing.assert_array_equal(np.sort(np.concatenate([train_rows, test_rows])), np.arange(442))
    assert len(split_indices(3, 0.01, np.random.default_rng(0))[1]) == 1
    for fraction in (0, 1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            split_indices(10, fraction, np.random.default_rng(0))
    with pytest.raises(ValueError, match="training needs at least two"):
        split_indices(2, 0.5, np.random.default_rng(0))


def make_model(dtype=np.float64):
    X, y, names, target = load_diabetes()
    net = build_network(10, 6, dtype=dtype, rng=np.random.default_rng(3))
    return Model(net, Standardiser.fit(X), Standardiser.fit(y), names, target), X


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_model_save_load_round_trip(tmp_path, dtype):
    model, X = make_model(dtype)
    path = tmp_path / "model.npz"
    model.save(path)
    assert os.listdir(tmp_path) == ["model.npz"]  # the temporary file was renamed
    loaded = Model.load(path)
    assert loaded.net.dtype == dtype
    assert loaded.net.W1.value.shape == (10, 6)
    assert (loaded.feature_names, loaded.target_name) == (model.feature_names, model.target_name)
    for name, value in model.net.weights.items():
        np.testing.assert_array_equal(loaded.net.weights[name], value)
    np.testing.assert_array_equal(loaded.x_scaler.mean, model.x_scaler.mean)
    np.testing.assert_array_equal(
        predict(loaded.net, loaded.x_scaler.transform(X)),
        predict(model.net, model.x_scaler.transform(X)),
    )
    assert Model.load(path, dtype=np.float32).net.dtype == np.float32


def test_model_save_replaces_an_existing_file(tmp_path):
    model, _ = make_model()
    path = tmp_path / "model.npz"
    path.write_text("old")
    model.save(path)
    assert Model.load(path).net.W1.value.shape == (10, 6)
    assert os.listdir(tmp_path) == ["model.npz"]


def test_model_save_into_a_missing_folder_leaves_nothing(tmp_path):
    model, _ = make_model()
    with pytest.raises(OSError, match=r"its folder .*missing does not exist"):
        model.save(tmp_path / "missing" / "model.npz")
    assert os.listdir(tmp_path) == []


def saved_arrays(tmp_path):
    make_model()[0].save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz") as file:
        return {key: file[key] for key in file.files}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.pop("format"), "not a saved MiniFlow model"),
        (lambda a: a.pop("W2"), "lacks W2"),
        (lambda a: a.update(W1=a["W1"][:, :3]), "'hidden' and the shape (10, 3) of W1 disagree"),
        (
            lambda a: a.update(b1=np.zeros(2)),
            "'b1' should be a float32 or float64 array of shape (6,)",
        ),
        (lambda a: a.update(x_mean=np.zeros(10, int)), "'x_mean' should be a float32 or float64"),
        (
            lambda a: a.update(feature_names=np.array(["a", "b"])),
            "'W1' should be a float32 or float64 array of shape (2, 6)",
        ),
        (lambda a: a.update(hidden=np.array("six")), "'hidden'"),
        (lambda a: a["b2"].fill(np.nan), "'b2' holds NaN"),
        (lambda a: a["x_scale"].fill(0), "'x_scale' holds zero or negative values"),
        (lambda a: a.update(y_scale=np.array(-2.0)), "'y_scale' holds zero or negative values"),
        (lambda a: a.update(target_name=np.array(3.0)), "'target_name' is not text"),
    ],
)
def test_model_load_rejects_broken_files(tmp_path, change, message):
    arrays = saved_arrays(tmp_path)
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ModelFileError) as error:
        Model.load(tmp_path / "bad.npz")
    assert message in str(error.value)


def test_model_load_rejects_files_that_are_not_models(tmp_path):
    with pytest.raises(ModelFileError, match="no such file"):
        Model.load(tmp_path / "missing.npz")
    with pytest.raises(ModelFileError, match="is a directory"):
        Model.load(tmp_path)
    (tmp_path / "text.npz").write_text("W1,b1\n1,2\n")
    with pytest.raises(ModelFileError, match=r"not a saved MiniFlow model \(.npz\)"):
        Model.load(tmp_path / "text.npz")
    np.save(tmp_path / "array.npy", np.ones(3))
    with pytest.raises(ModelFileError, match=r"not a saved MiniFlow model \(.npz\)"):
        Model.load(tmp_path / "array.npy")
    np.savez(tmp_path / "objects.npz", feature_names=np.array([{}], dtype=object))
    with pytest.raises(ModelFileError, match=r"not a saved MiniFlow model"):
        Model.load(tmp_path / "objects.npz")


def test_examples_nn_runs_and_learns(capsys, monkeypatch):
    monkeypatch.chdir(EXAMPLES)
    runpy.run_path(str(EXAMPLES / "nn.py"), run_name="__main__")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Total number of examples = 442"
    assert len(lines) == 101
    assert lines[1].startswith("Epoch: 1, Loss: ")
    assert float(lines[-1].split("Loss: ")[1]) < 0.6 * float(lines[1].split("Loss: ")[1])


def npy_header(shape, descr="<f8"):
    """An .npy file whose header declares ``shape`` but that holds only 8 bytes of data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue() + bytes(8)


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        # a consistent model of 10**12 hidden units in a 3 KB file
        (
            {"W1": (10, 10**12), "b1": (10**12,), "W2": (10**12, 1)},
            "'W1.npy' declares a float64 array of shape (10, 1000000000000), more than the file",
        ),
        ({"x_mean": (10**9,)}, "'x_mean.npy' declares a float64 array of shape (1000000000,)"),
    ],
)
def test_model_load_checks_every_header_before_reading_any_array(
    tmp_path, monkeypatch, shapes, message
):
    arrays = saved_arrays(tmp_path)
    if "W1" in shapes:
        arrays["hidden"] = np.array(shapes["b1"][0])
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key, value in arrays.items():
            if key in shapes:
                archive.writestr(f"{key}.npy", npy_header(shapes[key]))
            else:
                with archive.open(f"{key}.npy", "w") as member:
                    np.lib.format.write_array(member, value)
    read = []
    real_read_array = np.lib.format.read_array
    monkeypatch.setattr(
        np.lib.format,
        "read_array",
        lambda *args, **kwargs: read.append(1) or real_read_array(*args, **kwargs),
    )
    with pytest.raises(ModelFileError) as error:
        Model.load(path)
    assert message in str(error.value)
    assert len(read) <= 1  # at most the scalar 'hidden', never a declared array


def test_model_load_refuses_a_fifo_without_waiting(tmp_path):
    os.mkfifo(tmp_path / "model.npz")
    with pytest.raises(ModelFileError, match="is not a regular file"):
        Model.load(tmp_path / "model.npz")


def test_model_save_refuses_a_fifo(tmp_path):
    os.mkfifo(tmp_path / "model.npz")
    with pytest.raises(UnwritablePathError, match="is a FIFO"):
        make_model()[0].save(tmp_path / "model.npz")
    assert stat.S_ISFIFO(os.stat(tmp_path / "model.npz").st_mode)


def test_model_load_caps_the_arrays_a_file_may_declare(tmp_path, monkeypatch):
    import miniflow.training

    make_model()[0].save(tmp_path / "model.npz")
    monkeypatch.setattr(miniflow.training, "_MAX_MODEL_BYTES", 1000)
    with pytest.raises(ModelFileError, match="a saved model may hold at most 1,000"):
        Model.load(tmp_path / "model.npz")


def test_train_skips_the_datas_gradient_and_still_matches_the_full_backward():
    X = np.random.default_rng(1).standard_normal((40, 3))
    y = np.tanh(X[:, 0])
    nets = [build_network(3, 4, rng=np.random.default_rng(0)) for _ in range(2)]
    train(nets[0], X, y, epochs=3, learning_rate=0.1, rng=np.random.default_rng(2), batch_size=8)
    # the same loop by hand with every gradient, as in the lesson
    net, rng = nets[1], np.random.default_rng(2)
    for _ in range(3):
        for rows in batches(40, 8, "bootstrap", rng):
            net.X.value, net.y.value = X[rows], y[rows]
            forward_and_backward(net.graph)
            sgd_update(net.trainables, 0.1)
    for name, value in nets[1].weights.items():
        np.testing.assert_array_equal(nets[0].weights[name], value)
    with pytest.raises(KeyError, match="the gradient for Input 'X' was skipped"):
        nets[0].X.gradients[nets[0].X]
    assert nets[1].X.gradients[nets[1].X].shape == (8, 3)


def patched_headers(data, offsets):
    """``data`` (a zip file) with every local (PK\\3\\4) and central (PK\\1\\2) header's 16-bit
    field at ``offsets[signature]`` set to ``value``."""
    data = bytearray(data)
    for signature, (offset, value) in offsets.items():
        start = data.find(signature)
        while start >= 0:
            struct.pack_into("<H", data, start + offset, value)
            start = data.find(signature, start + 4)
    return bytes(data)


@pytest.mark.parametrize(
    "offsets",
    [
        {b"PK\x01\x02": (10, 99)},  # an unknown compression method: NotImplementedError
        {b"PK\x01\x02": (8, 1), b"PK\x03\x04": (6, 1)},  # encrypted: RuntimeError
    ],
    ids=["unknown-method", "encrypted"],
)
def test_model_load_refuses_zip_members_numpy_never_writes(tmp_path, offsets):
    make_model()[0].save(tmp_path / "model.npz")
    path = tmp_path / "odd.npz"
    path.write_bytes(patched_headers((tmp_path / "model.npz").read_bytes(), offsets))
    with pytest.raises(ModelFileError, match="is encrypted or compressed in a way numpy never"):
        Model.load(path)
