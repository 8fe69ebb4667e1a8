"""What the torchvision-named constructors of the zoo share (``densenet121(weights=None)``)."""


def no_weights(name, weights):
    """torchvision's constructors take ``weights``; ours build untrained models only, because
    nothing is downloaded here. Load exported weights with ``load_weights`` instead."""
    if weights is not None:
        raise ValueError(f"{name}: weights={weights!r} cannot be downloaded here; build "
                         f"{name}() and load torchvision's exported state dict with "
                         "minitorch_cnn.models.load_weights(model, path) or "
                         "model.load_state_dict(...) (the keys and shapes are the same)")
