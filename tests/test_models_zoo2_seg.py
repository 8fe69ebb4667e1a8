"""Zoo II, dense prediction: U-Net, DeconvNet, SegNet and the dilated context module.

The paper networks are counted at full size; shapes and gradients run on narrow versions (the
same code with fewer channels), since the full nets take minutes per step on a 2-core machine.
"""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.models import DeconvNet, DilatedContextNet, SegNet, UNet
from minitorch_cnn.models.deconvnet import VGG16_STAGES
from helpers import assert_all_gradients, n_params

NARROW = ((4, 4), (8, 8), (8, 8, 8), (8, 8, 8), (8, 8, 8))  # VGG16's layout, 64x thinner


# --- U-Net -----------------------------------------------------------------------------------

def test_unet_paper_network_count_and_sizes():
    model = UNet()
    assert n_params(model) == 31_030_658          # 1 input channel, 2 classes, 64 ... 1024
    assert model.output_size(572) == 388          # Fig. 1
    assert [m.out_channels for m in model.upconv] == [512, 256, 128, 64]


def test_unet_valid_shapes_and_gradients():
    model = UNet(base_channels=4)
    x = mt.randn(1, 1, 188, 188)                  # the smallest tile: 188 -> 4
    y = model(x)
    assert y.shape == (1, 2, 4, 4)
    y.sum().backward()
    assert_all_gradients(model)


@pytest.mark.slow
def test_unet_572_gives_388():
    model = UNet(base_channels=4)
    with mt.no_grad():
        assert model(mt.randn(1, 1, 572, 572)).shape == (1, 2, 388, 388)


def test_unet_same_padding_keeps_the_size():
    model = UNet(in_channels=3, num_classes=5, base_channels=2, padding="same")
    y = model(mt.randn(2, 3, 32, 48))
    assert y.shape == (2, 5, 32, 48)
    y.sum().backward()
    assert_all_gradients(model)


def test_unet_rejects_sizes_that_do_not_pool_evenly():
    with pytest.raises(ValueError, match=r"UNet: .*570.*556 or 572"):
        UNet(base_channels=2)(mt.randn(1, 1, 570, 570))
    with pytest.raises(ValueError, match=r"UNet: .*30.*16 or 32"):
        UNet(base_channels=2, padding="same")(mt.randn(1, 1, 32, 30))
    with pytest.raises(ValueError, match=r"UNet: expected an input of shape \(N, 1, H, W\)"):
        UNet(base_channels=2)(mt.randn(1, 3, 188, 188))


# --- DeconvNet and SegNet ----------------------------------------------------------------------

@pytest.mark.slow
def test_deconvnet_paper_count():
    assert n_params(DeconvNet()) == 251_805_653   # the paper: 252 M


def test_segnet_paper_count():
    assert n_params(SegNet()) == 29_449_355       # the paper: 29.5 M


@pytest.mark.parametrize("build", [
    lambda: DeconvNet(stages=NARROW, fc_channels=16, fc_kernel_size=2),
    lambda: SegNet(stages=NARROW)], ids=["DeconvNet", "SegNet"])
def test_output_has_the_input_size_and_every_parameter_learns(build):
    model = build()
    y = model(mt.randn(2, 3, 64, 96))
    assert y.shape[2:] == (64, 96)
    (y * y).sum().backward()
    assert_all_gradients(model)


def test_unpooling_uses_the_encoders_indices():
    model = SegNet(stages=NARROW)
    pooled, unpooled = [], []

    def spy(module, log):
        forward = module.forward

        def recorded(*args, **kwargs):
            out = forward(*args, **kwargs)
            log.append(out[1] if log is pooled else args[1])
            return out
        module.forward = recorded

    spy(model.pool, pooled)
    spy(model.unpool, unpooled)
    with mt.no_grad():
        model(mt.randn(1, 3, 32, 32))
    assert len(pooled) == len(unpooled) == 5
    assert all(a is b for a, b in zip(pooled, reversed(unpooled)))
    # and what unpooling does with them: each maximum back in its place, zeros elsewhere
    x = mt.randn(1, 2, 4, 4)
    with mt.no_grad():
        y, indices = model.pool(x)
        back = model.unpool(y, indices).numpy()
    xs = x.numpy()
    windows = xs.reshape(1, 2, 2, 2, 2, 2).max(axis=(3, 5))
    is_max = xs == np.repeat(np.repeat(windows, 2, axis=2), 2, axis=3)
    np.testing.assert_array_equal(back, np.where(is_max, xs, 0))


def test_deconvnet_decoder_mirrors_vgg16():
    model = SegNet()
    decoder_widths = [[m.out_channels for m in stage if hasattr(m, "out_channels")]
                      for stage in model.decoder]
    assert decoder_widths == [[512, 512, 512], [512, 512, 256], [256, 256, 128], [128, 64],
                              [64, 11]]
    assert [len(s) for s in VGG16_STAGES] == [2, 2, 3, 3, 3]


def test_deconvnet_and_segnet_reject_bad_sizes():
    with pytest.raises(ValueError, match=r"SegNet: input sizes must be multiples of 32.*"
                                         r"got 50.*32 or 64"):
        SegNet(stages=NARROW)(mt.randn(1, 3, 64, 50))
    with pytest.raises(ValueError, match=r"DeconvNet: .*at least 64, got 32"):
        DeconvNet(stages=NARROW, fc_channels=8, fc_kernel_size=2)(mt.randn(1, 3, 32, 32))


# --- the dilated context module ------------------------------------------------------------------

def test_context_module_preserves_resolution_and_grows_its_receptive_field():
    model = DilatedContextNet(channels=5)
    assert model.receptive_fields() == [3, 5, 9, 17, 33, 65, 67, 67]
    assert n_params(model) == 64 * 5 * 5 + 8 * 5  # 7 x 3x3 C->C, a 1x1, biases
    x = mt.randn(2, 5, 37, 23)
    y = model(x)
    assert y.shape == x.shape
    y.sum().backward()
    assert_all_gradients(model)


def test_context_module_identity_initialisation():
    x = mt.randn(1, 4, 20, 20)
    with mt.no_grad():
        basic = DilatedContextNet(4)(x).numpy()
        large = DilatedContextNet(4, large=True)(x).numpy()
    relu = np.maximum(x.numpy(), 0)
    # a fresh module passes its input (exactly by im2col; within Winograd F(4x4)'s float32
    # bound of its largest value, 1e-5 x 4, after its 8 layers)
    np.testing.assert_allclose(basic, relu, atol=1e-5 * np.abs(relu).max())
    np.testing.assert_allclose(large, relu, atol=0.1)    # up to the paper's small noise
    with pytest.raises(ValueError, match=r"DilatedContextNet: expected an input of shape "
                                         r"\(N, 4, H, W\)"):
        DilatedContextNet(4)(mt.randn(1, 3, 8, 8))


def test_summary_shows_the_context_modules_receptive_fields():
    summary = pytest.importorskip("minitorch_cnn.summary").summary
    s = summary(DilatedContextNet(4), (4, 40, 40))
    convs = [r for r in s.layers if r.type == "Conv2d"]
    assert [r.receptive_field[0] for r in convs] == [3, 5, 9, 17, 33, 65, 67, 67]
    assert all(r.output_shape == (1, 4, 40, 40) for r in convs)
