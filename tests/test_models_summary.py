"""``minitorch_cnn.summary``: per-layer shapes, parameters, multiply-adds and receptive fields,
and the arithmetic of the papers (VGG16's 138,357,544 parameters, stacked 3x3s seeing 5x5 and
7x7, GoogLeNet against AlexNet)."""
import pytest

from minitorch_cnn import nn
from minitorch_cnn.models import NiN, ResNet18, resnet18, vgg16
from minitorch_cnn.models.vgg import cfgs, make_layers
from minitorch_cnn.summary import Summary, main, summary


def test_stacked_3x3_convolutions_see_5x5_and_7x7():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(8, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1))
    s = summary(model, (3, 16, 16))
    assert isinstance(s, Summary)
    assert [r.receptive_field for r in s.layers] == [(3, 3), (3, 3), (5, 5), (7, 7)]
    assert [r.jump for r in s.layers] == [(1, 1)] * 4
    assert [r.params for r in s.layers] == [224, 0, 584, 584]
    assert [r.macs for r in s.layers] == [8 * 16 * 16 * 27, 0, 8 * 16 * 16 * 72,
                                          8 * 16 * 16 * 72]
    assert s.total_params == s.trainable_params == 1392
    assert s.total_macs == sum(r.macs for r in s.layers) and s.total_flops == 2 * s.total_macs
    assert s.layers[0].output_shape == (1, 8, 16, 16) and s.output_shape == (1, 8, 16, 16)
    # one 7x7 sees as far as three 3x3s, with 49 C^2 weights instead of 27 C^2
    assert summary(nn.Conv2d(8, 8, 7), (8, 9, 9)).layers[0].receptive_field == (7, 7)


def test_strides_dilation_and_pooling_grow_the_jump():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2), nn.MaxPool2d(2),
                          nn.Conv2d(2, 2, 3, dilation=2), nn.Conv2d(2, 2, (1, 3)))
    s = summary(model, (1, 64, 64))
    # 3; 3 + 1 * 2 = 5; 5 + 2 * 2 * 4 = 21; width only: 21 + 2 * 4
    assert [r.receptive_field for r in s.layers] == [(3, 3), (5, 5), (21, 21), (21, 29)]
    assert [r.jump for r in s.layers] == [(2, 2), (4, 4), (4, 4), (4, 4)]


def test_vgg16_features_receptive_fields():
    s = summary(make_layers(cfgs["D"]), (3, 32, 32))
    pools = [r.receptive_field[0] for r in s.layers if r.type == "MaxPool2d"]
    assert pools == [6, 16, 44, 100, 212]  # pool5 sees 212x212 of the 224x224 image
    assert s.total_params == 14_714_688


def test_resnet18_arithmetic_and_branches():
    # residual sums meet the receptive field of the wider branch
    s = summary(resnet18(), (3, 224, 224))
    assert s.total_params == 11_689_512
    assert s.total_macs == 1_814_073_344  # "1.8 x 10^9 FLOPs" (multiply-adds) in the paper
    last = [r for r in s.layers if r.name == "layer4.1.bn2"][0]
    assert last.receptive_field == (435, 435) and last.jump == (32, 32)
    assert s.output_shape == (1, 1000)
    text = str(s)
    assert "layer4.1.conv2 (Conv2d)" in text and "Total params: 11,689,512" in text


def test_summary_restores_the_model():
    model = ResNet18(num_classes=10)
    model.train()
    model.layer1.eval()
    summary(model, (3, 32, 32))
    assert model.training and not model.layer1[0].training and model.layer2[0].training
    assert "forward" not in model.conv1.__dict__
    assert summary(model, (3, 32, 32), batch_size=2).input_size == (2, 3, 32, 32)


def test_cli_prints_a_table(capsys):
    main(["NiN", "--input", "3", "32", "32"])
    out = capsys.readouterr().out
    assert "features.0.0 (Conv2d)" in out and "Total params: 966,986" in out
    with pytest.raises(SystemExit):
        main(["NoSuchNet"])
    assert summary(NiN(), (3, 32, 32)).layers[-1].output_shape == (1, 10, 1, 1)


def test_transposed_convolution_counts():
    s = summary(nn.ConvTranspose2d(4, 2, 3, stride=2), (4, 5, 5))
    assert s.layers[0].output_shape == (1, 2, 11, 11)
    assert s.layers[0].macs == 4 * 5 * 5 * 2 * 9  # every input pixel meets every tap once


@pytest.mark.slow
def test_the_documents_arithmetic():
    from minitorch_cnn.models import AlexNet, GoogLeNet
    s = summary(vgg16(), (3, 224, 224))
    assert s.total_params == 138_357_544
    assert s.total_macs == 15_470_264_320  # 15.5 G multiply-adds
    alex = summary(AlexNet(), (3, 227, 227)).total_params
    assert alex == 60_965_224  # "60 million parameters"
    google = summary(GoogLeNet(aux_logits=False), (3, 224, 224))
    assert 8 < alex / google.total_params < 13  # the paper: "12 times fewer"
    assert 1.5e9 < google.total_macs < 1.6e9  # "1.5 billion multiply-adds"
