"""Loading weights exported from other frameworks (torchvision) into the zoo's models."""
import os

from ..checked_read import check_safetensors, read_npz


def read_weights(path):
    """A dict of NumPy arrays from an ``.npz`` or ``.safetensors`` file (by extension)."""
    path = os.fspath(path)
    if not path.endswith((".npz", ".safetensors")):
        raise ValueError(f"load_weights: expected a .npz or .safetensors file, got {path}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_weights: no such file: {path}")
    if path.endswith(".npz"):
        return read_npz(path, "load_weights")  # no pickle; sizes checked before allocating
    check_safetensors(path, "load_weights")
    try:
        from safetensors.numpy import load_file
    except ImportError:
        raise ImportError("load_weights: reading .safetensors needs the safetensors "
                          "package: pip install safetensors") from None
    return load_file(path)


def load_weights(model, path, strict=True):
    """Load a state dict saved as ``.npz`` or ``.safetensors`` into ``model`` (in place) and
    return the model.

    Keys and shapes must be the model's: a torchvision state dict exported with
    ``tools/export_torchvision_weights.py`` loads into the zoo's model of the same lower-case
    name (``resnet50``, ``vgg16_bn`` ...). ``strict=False`` allows missing and unexpected keys
    (not wrongly-shaped ones), e.g. to load a backbone without its classifier.
    """
    model.load_state_dict(read_weights(path), strict=strict)
    return model
