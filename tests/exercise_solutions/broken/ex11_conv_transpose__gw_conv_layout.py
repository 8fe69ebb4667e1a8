# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: conv_transpose2d_backward
# expect: you have the conv2d layout
_correct_backward = conv_transpose2d_backward


def conv_transpose2d_backward(gy, x, w, b, stride=1, padding=0):
    gx, gw, gb = _correct_backward(gy, x, w, b, stride, padding)
    return gx, gw.transpose(1, 0, 2, 3), gb
