"""``python -m benchmarks.ab``: two cases of our side alternated in one process."""
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_ab_alternates_two_cases_and_names_an_unknown_one(monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(ROOT))  # for `benchmarks`
    from benchmarks import ab
    a, b = "global avg pool (32,512,7,7)", "softmax + cross_entropy (256,1000)"
    ab.main([a, b, "--pairs", "3", "--threads", "1"])
    out = capsys.readouterr().out
    assert f"{a}: median" in out and f"{b}: median" in out
    assert "B faster in" in out and "of 3 pairs (1 threads)" in out
    with pytest.raises(SystemExit):
        ab.main([a, "no such case"])
    assert "no case named 'no such case'" in capsys.readouterr().err
