"""What the model families share: the input check that names the model and the size it needs."""


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
