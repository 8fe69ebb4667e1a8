# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: conv_transpose2d_backward
# expect: not flipped
_correct_backward = conv_transpose2d_backward


def conv_transpose2d_backward(gy, x, w, b, stride=1, padding=0):
    _, gw, gb = _correct_backward(gy, x, w, b, stride, padding)
    gx, _, _ = _correct_backward(gy, x, w[:, :, ::-1, ::-1].copy(), b, stride, padding)
    return gx, gw, gb
