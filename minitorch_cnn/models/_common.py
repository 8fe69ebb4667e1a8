"""What the model families share: the input check that names the model and the size it needs,
the conv - batch norm - activation unit of the BN-era networks, and the fully-connected head of
AlexNet, ZFNet, VGG and SPP-net."""
from .. import nn
from ..ops.arguments import pair


def conv_bn_act(in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                bias=False, norm=True, eps=1e-5, act=nn.ReLU, transposed=False):
    """The layers [conv, batch norm, activation] of Inception v2-v4, MobileNet, ShuffleNet,
    SegNet and torchvision's GoogLeNet (Ioffe & Szegedy 2015 put BN between the convolution
    and its non-linearity; the conv then needs no bias). ``padding=None`` keeps the size at
    stride 1 ((k - 1) // 2 per side); ``norm=False`` or ``act=None`` leave that layer out.
    Returned as a list, so that each family wraps it in the container its state-dict keys
    need (``nn.Sequential`` indices 0, 1, 2 as torchvision's ``Conv2dNormActivation``)."""
    if padding is None:
        padding = tuple((k - 1) // 2 for k in pair(kernel_size, "kernel_size", "conv_bn_act"))
    conv = nn.ConvTranspose2d if transposed else nn.Conv2d
    layers = [conv(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                   groups=groups, bias=bias)]
    if norm:
        layers.append(nn.BatchNorm2d(out_channels, eps=eps))
    return layers + ([act()] if act is not None else [])


def fc_head(in_features, num_classes, dropout=0.5, hidden=4096):
    """fc6 - fc7 - fc8 as AlexNet introduced them (Krizhevsky et al. 2012): two hidden layers of
    ``hidden`` ReLU units, each followed by dropout, then the class scores. Its indices 0 and 3
    are fc6 and fc7, which the torchvision layouts of these models name ``classifier.0/3``."""
    return nn.Sequential(
        nn.Linear(in_features, hidden), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden, num_classes))


def check_input(model, x, in_channels, size=None, min_size=None):
    """Raise a ValueError naming ``model`` unless ``x`` is (N, in_channels, H, W) with H = W =
    ``size`` (a network whose classifier needs one input size) or H, W >= ``min_size``."""
    name = type(model).__name__
    shape = tuple(x.shape)
    if size is not None:
        expected = f"(N, {in_channels}, {size}, {size})"
        ok = len(shape) == 4 and shape[1] == in_channels and shape[2:] == (size, size)
    else:
        expected = f"(N, {in_channels}, H, W)" + (f" with H, W >= {min_size}" if min_size else "")
        ok = (len(shape) == 4 and shape[1] == in_channels
              and (min_size is None or min(shape[2:]) >= min_size))
    if not ok:
        raise ValueError(f"{name}: expected an input of shape {expected}, got {shape}")
