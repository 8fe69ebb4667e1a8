"""``mt.sum(x, dim)``, ``mt.max(x, dim)``, ``mt.argmax`` ...: the Tensor methods as functions
of the package, with PyTorch's names and argument orders (``torch.sum(x, 1)``)."""
from .tensor import Tensor


def _tensor(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return x


def sum(input, dim=None, keepdim=False):
    return _tensor("sum", input).sum(dim=dim, keepdim=keepdim)


def mean(input, dim=None, keepdim=False):
    return _tensor("mean", input).mean(dim=dim, keepdim=keepdim)


def max(input, dim=None, keepdim=False):
    """``max(x)``: the largest element; ``max(x, dim)``: (values, indices); ``max(x, y)``:
    the elementwise maximum."""
    return _tensor("max", input).max(dim, keepdim)


def min(input, dim=None, keepdim=False):
    return _tensor("min", input).min(dim, keepdim)


def amax(input, dim=None, keepdim=False):
    return _tensor("amax", input).amax(dim, keepdim)


def amin(input, dim=None, keepdim=False):
    return _tensor("amin", input).amin(dim, keepdim)


def argmax(input, dim=None, keepdim=False):
    return _tensor("argmax", input).argmax(dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    return _tensor("argmin", input).argmin(dim, keepdim)


def sort(input, dim=-1, descending=False, stable=False):
    return _tensor("sort", input).sort(dim, descending, stable)


def argsort(input, dim=-1, descending=False, stable=False):
    return _tensor("argsort", input).argsort(dim, descending, stable)


def topk(input, k, dim=-1, largest=True, sorted=True):
    return _tensor("topk", input).topk(k, dim, largest, sorted)


def pow(input, exponent):
    if isinstance(input, Tensor):
        return input.pow(exponent)
    return _tensor("pow", exponent).__rpow__(input)


def relu(input):
    return _tensor("relu", input).relu()


def sigmoid(input):
    return _tensor("sigmoid", input).sigmoid()


def tanh(input):
    return _tensor("tanh", input).tanh()


def softmax(input, dim):
    return _tensor("softmax", input).softmax(dim)


def log_softmax(input, dim):
    return _tensor("log_softmax", input).log_softmax(dim)


def transpose(input, dim0, dim1):
    return _tensor("transpose", input).transpose(dim0, dim1)


def flatten(input, start_dim=0, end_dim=-1):
    return _tensor("flatten", input).flatten(start_dim, end_dim)


def reshape(input, shape):
    return _tensor("reshape", input).reshape(shape)
