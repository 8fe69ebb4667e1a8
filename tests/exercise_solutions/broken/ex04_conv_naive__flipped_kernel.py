# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: conv2d_forward_naive
# expect: do not flip the kernel
_correct_forward = conv2d_forward_naive


def conv2d_forward_naive(x, w, b, stride=1, padding=0):
    return _correct_forward(x, w[:, :, ::-1, ::-1], b, stride, padding)
