"""Undoing NumPy broadcasting in gradients."""


def sum_to_shape(g, shape):
    """Sum ``g`` over the axes that broadcasting added or stretched, so it gets ``shape``."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    g = g.sum(axis=axes, keepdims=True) if axes else g
    return g.reshape(shape)


def broadcast_shapes(op, *shapes):
    """The broadcast shape of ``shapes``, or a ValueError naming ``op`` and the shapes."""
    ndim = max(len(s) for s in shapes)
    out = []
    for dims in zip(*((1,) * (ndim - len(s)) + tuple(s) for s in shapes)):
        sizes = {d for d in dims if d != 1}
        if len(sizes) > 1:
            raise ValueError(f"{op}: shapes {' and '.join(str(tuple(s)) for s in shapes)} "
                             "do not broadcast")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)
