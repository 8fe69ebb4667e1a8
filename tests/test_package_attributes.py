"""After ``import minitorch_cnn as mt`` alone, every subpackage is an attribute, as
``torch.optim`` is after ``import torch`` (checked in a fresh interpreter, where no test has
imported them yet)."""
import subprocess
import sys

import pytest

import minitorch_cnn as mt

CHECK = """
import sys
import minitorch_cnn as mt
lazy = [m for m in ("minitorch_cnn.optim", "minitorch_cnn.data", "minitorch_cnn.models")
        if m in sys.modules]
assert not lazy, f"imported by 'import minitorch_cnn' although they are lazy: {lazy}"
assert mt.nn.Conv2d and mt.nn.functional.conv2d and mt.nn.utils.clip_grad_norm_
assert mt.optim.SGD and mt.optim.lr_scheduler.StepLR
assert mt.data.DataLoader and mt.models.LeNet5 and mt.kernels.get
assert mt.autograd.detect_anomaly
print("ok")
"""


def test_subpackages_are_attributes_after_import():
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'optimm'"):
        mt.optimm
    assert not hasattr(mt, "_private")
