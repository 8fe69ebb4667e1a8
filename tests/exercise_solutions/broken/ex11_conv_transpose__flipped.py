# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: conv_transpose2d_forward
# expect: the kernel is not flipped
_correct_forward = conv_transpose2d_forward


def conv_transpose2d_forward(x, w, b, stride=1, padding=0):
    return _correct_forward(x, w[:, :, ::-1, ::-1], b, stride, padding)
