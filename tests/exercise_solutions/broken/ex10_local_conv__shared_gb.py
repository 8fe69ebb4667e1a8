# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: local_conv2d_backward
# expect: the bias is not shared either
_correct_backward = local_conv2d_backward


def local_conv2d_backward(gy, x, w, b, stride=1, padding=0):
    gx, gw, gb = _correct_backward(gy, x, w, b, stride, padding)
    return gx, gw, gb.sum(axis=(1, 2))
