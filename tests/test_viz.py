"""Pictures: metrics files are read (and bad ones named), plots are written as PNGs, receptive
fields follow rf_out = rf_in + (k - 1) d jump_in. Plot tests skip without matplotlib."""
import json

import numpy as np
import pytest

from minitorch_cnn import viz

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def plt():
    return pytest.importorskip("matplotlib")


def _metrics_csv(path):
    path.write_text("epoch,train_loss,train_acc,val_loss,val_acc\n"
                    "1,0.9,0.70,0.5,0.85\n2,0.4,0.88,0.3,0.91\n3,0.3,0.92,0.25,0.93\n")
    return str(path)


def test_read_metrics_csv_and_json(tmp_path):
    columns = viz.read_metrics(_metrics_csv(tmp_path / "m.csv"))
    assert columns["val_acc"] == [0.85, 0.91, 0.93] and columns["epoch"] == [1, 2, 3]
    records = [{"epoch": 1, "loss": 1.0}, {"epoch": 2, "loss": 0.5}]
    for i, data in enumerate([records, {"epoch": [1, 2], "loss": [1.0, 0.5]},
                              {"epochs": records}]):
        (tmp_path / f"m{i}.json").write_text(json.dumps(data))
        assert viz.read_metrics(str(tmp_path / f"m{i}.json"))["loss"] == [1.0, 0.5]
    (tmp_path / "m.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    assert viz.read_metrics(str(tmp_path / "m.jsonl"))["epoch"] == [1, 2]


def test_bad_metrics_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.csv"):
        viz.read_metrics(str(tmp_path / "nowhere.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_text("epoch,loss\n1,abc\n")
    with pytest.raises(ValueError, match="bad.csv is malformed"):
        viz.read_metrics(str(bad))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        viz.read_metrics(str(tmp_path / "bad.json"))
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="no loss or accuracy"):
        viz.read_metrics(str(tmp_path / "other.csv"))


def test_receptive_fields():
    assert [r for _, r, _ in viz.receptive_fields([("c", 3, 1)] * 3)] == [3, 5, 7]
    # AlexNet: conv1 11/4, pool 3/2, conv2 5/1 -> 11, 19, 51 pixels; jumps 4, 8, 8
    rows = viz.receptive_fields([("conv1", 11, 4), ("pool1", 3, 2), ("conv2", 5, 1)])
    assert rows == [("conv1", 11, 4), ("pool1", 19, 8), ("conv2", 51, 8)]
    dilated = viz.receptive_fields([("d", 3, 1, d) for d in (1, 1, 2, 4, 8, 16)])
    assert [r for _, r, _ in dilated] == [3, 5, 9, 17, 33, 65]


def test_plots_write_pngs(tmp_path, plt):
    rng = np.random.default_rng(0)
    outs = [viz.plot_training_curves(_metrics_csv(tmp_path / "m.csv"), str(tmp_path / "c.png")),
            viz.plot_filters(rng.standard_normal((96, 3, 11, 11)), str(tmp_path / "f.png")),
            viz.plot_filters(rng.standard_normal((6, 1, 5, 5)), str(tmp_path / "g.png")),
            viz.plot_feature_maps(rng.standard_normal((1, 6, 24, 24)), str(tmp_path / "m.png"),
                                  image=rng.standard_normal((28, 28))),
            viz.plot_receptive_field([("a", 3, 1), ("p", 2, 2), ("b", 3, 1, 2)],
                                     str(tmp_path / "r.png")),
            viz.plot_receptive_field_growth({"x": viz.receptive_fields([("a", 3, 1)] * 4)},
                                            str(tmp_path / "s.png"))]
    for out in outs:
        with open(out, "rb") as f:
            assert f.read(8) == PNG


def test_bad_shapes_are_named(tmp_path, plt):
    with pytest.raises(ValueError, match=r"plot_filters: expected a weight \(O, C, kh, kw\)"):
        viz.plot_filters(np.zeros((3, 5, 5)), str(tmp_path / "f.png"))
    with pytest.raises(ValueError, match="plot_feature_maps"):
        viz.plot_feature_maps(np.zeros((5, 5)), str(tmp_path / "m.png"))


def test_command_line(tmp_path, plt, capsys):
    out = str(tmp_path / "curves.png")
    assert viz.main(["curves", _metrics_csv(tmp_path / "m.csv"), "--out", out]) == 0
    assert viz.main(["receptive-field", "--layers", "3,2/2,3/1/2", "--out",
                     str(tmp_path / "rf.png")]) == 0
    with open(out, "rb") as f:
        assert f.read(8) == PNG
    assert viz.main(["curves", str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv does not exist" in capsys.readouterr().err
    assert viz.main(["filters", "--model", "LeNet5", "--out", str(tmp_path / "f.png")]) == 0
    assert viz.main(["features", "--model", "LeNet5", "--out", str(tmp_path / "m.png")]) == 0
