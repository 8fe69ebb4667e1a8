"""mt.save / mt.load: round trips, checkpoints, atomic writes, clear errors, safetensors."""
import os
import pickle
import zipfile

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn, optim


def test_state_dict_round_trip_and_plain_numpy_keys(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    path = tmp_path / "weights.npz"
    mt.save(model.state_dict(), path)
    with np.load(path, allow_pickle=False) as npz:  # readable without minitorch_cnn
        assert {"0.weight", "0.bias", "1.weight", "1.bias"} <= set(npz.files)
    loaded = mt.load(path)
    assert list(loaded) == list(model.state_dict())
    assert isinstance(loaded["0.weight"], mt.Tensor) and loaded["0.weight"].dtype == np.float32
    other = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    other.load_state_dict(loaded)
    x = mt.randn(5, 3)
    np.testing.assert_array_equal(other(x).numpy(), model(x).numpy())


def test_checkpoint_with_nested_state(tmp_path):
    model = nn.Linear(3, 2)
    opt = optim.Adam([{"params": [model.weight]}, {"params": [model.bias], "lr": 0.1}])
    model(mt.randn(4, 3)).sum().backward()
    opt.step()
    sched = optim.lr_scheduler.StepLR(opt, 2)
    ckpt = {"model": model.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(), "epoch": 3, "rng": mt.get_rng_state(),
            "history": [{"loss": 0.5, "acc": np.float32(0.25)}], "note": None,
            "shape": (2, 3), "flag": True, "raw": np.arange(4, dtype=np.int16)}
    path = tmp_path / "ckpt.pt"  # any extension: the file is written under this exact name
    mt.save(ckpt, path)
    assert os.listdir(tmp_path) == ["ckpt.pt"]
    back = mt.load(path)
    assert back["epoch"] == 3 and back["note"] is None and back["flag"] is True
    assert back["shape"] == (2, 3) and back["history"] == [{"loss": 0.5, "acc": 0.25}]
    assert back["raw"].dtype == np.int16 and isinstance(back["raw"], np.ndarray)
    assert set(back["optimizer"]["state"]) == {0, 1}  # int keys survive
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["rng"] == mt.get_rng_state()  # 128-bit PCG64 state survives JSON
    opt2 = optim.Adam([{"params": [model.weight]}, {"params": [model.bias]}])
    opt2.load_state_dict(back["optimizer"])
    np.testing.assert_array_equal(opt2.state[model.weight]["exp_avg"],
                                  opt.state[model.weight]["exp_avg"])
    assert opt2.param_groups[1]["lr"] == 0.1 and opt2.state[model.bias]["step"] == 1


def test_rng_state_restores_draws(tmp_path):
    mt.randn(3)
    mt.save({"rng": mt.get_rng_state()}, tmp_path / "r.npz")
    expected = mt.randn(4).numpy()
    mt.manual_seed(123)
    mt.set_rng_state(mt.load(tmp_path / "r.npz")["rng"])
    np.testing.assert_array_equal(mt.randn(4).numpy(), expected)


def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "last.npz"
    mt.save({"w": np.ones(3)}, path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        mt.save({"w": np.zeros(3)}, path)
    assert os.listdir(tmp_path) == ["last.npz"]  # no temporary file left
    np.testing.assert_array_equal(mt.load(path)["w"], 1)


def test_truncated_and_foreign_files_name_the_path(tmp_path):
    good = tmp_path / "good.npz"
    mt.save({"w": np.arange(1000.0)}, good)
    data = good.read_bytes()
    cases = {"truncated.npz": data[: len(data) // 2], "text.npz": b"hello, not a checkpoint",
             "pickled.pkl": pickle.dumps({"w": 1}), "empty.npz": b""}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=f"mt.load: .*{name}"):
            mt.load(tmp_path / name)
    np.save(tmp_path / "one.npy", np.ones(2))
    with pytest.raises(ValueError, match="one.npy.*single .npy"):
        mt.load(tmp_path / "one.npy")
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        mt.load(tmp_path / "missing.npz")
    # a corrupted (not truncated) member is caught by the zip CRC check
    with zipfile.ZipFile(good) as z:
        offset = z.getinfo("w.npy").header_offset + 200
    corrupted = bytearray(data)
    corrupted[offset:offset + 8] = b"\xff" * 8
    (tmp_path / "corrupted.npz").write_bytes(bytes(corrupted))
    with pytest.raises(ValueError, match="corrupted.npz"):
        mt.load(tmp_path / "corrupted.npz")


def test_object_arrays_and_foreign_npz(tmp_path):
    with pytest.raises(TypeError, match="object array"):
        mt.save({"w": np.array([{}, 1], dtype=object)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="cannot save builtin_function"):
        mt.save({"f": len}, tmp_path / "x.npz")
    np.savez(tmp_path / "exported.npz", **{"conv1.weight": np.ones((2, 1, 3, 3), np.float32)})
    loaded = mt.load(tmp_path / "exported.npz")
    assert loaded["conv1.weight"].shape == (2, 1, 3, 3)


def test_safetensors_round_trip(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    model = nn.Linear(3, 2)
    path = tmp_path / "model.safetensors"
    mt.save(model.state_dict(), path)
    assert set(st.load_file(str(path))) == {"weight", "bias"}
    np.testing.assert_array_equal(mt.load(path)["weight"].numpy(), model.weight.numpy())
    st.save_file({"weight": np.zeros((2, 3), np.float32)}, str(tmp_path / "other.safetensors"))
    assert mt.load(tmp_path / "other.safetensors")["weight"].numpy().sum() == 0
    (tmp_path / "bad.safetensors").write_bytes(b"\x00\x01garbage")
    with pytest.raises(ValueError, match="bad.safetensors"):
        mt.load(tmp_path / "bad.safetensors")
    with pytest.raises(TypeError, match="only arrays"):
        mt.save({"epoch": 1}, tmp_path / "e.safetensors")


@pytest.mark.cudasim
def test_load_onto_cuda(tmp_path):
    if not mt.cuda.is_available():
        pytest.skip("no cuda device")
    mt.save({"w": mt.ones(2)}, tmp_path / "w.npz")
    assert mt.load(tmp_path / "w.npz", device="cuda")["w"].device == mt.Device("cuda")
