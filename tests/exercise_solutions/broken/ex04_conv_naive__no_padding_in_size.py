# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: conv2d_forward_naive
# expect: the padding is missing
_correct_forward = conv2d_forward_naive


def conv2d_forward_naive(x, w, b, stride=1, padding=0):
    y = _correct_forward(x, w, b, stride, padding)
    out_h = (x.shape[2] - w.shape[2]) // stride + 1
    out_w = (x.shape[3] - w.shape[3]) // stride + 1
    return y[:, :, :out_h, :out_w]
