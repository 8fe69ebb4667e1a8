# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: conv2d_backward_naive
# expect: gw is flipped
_correct_backward = conv2d_backward_naive


def conv2d_backward_naive(gy, x, w, b, stride=1, padding=0):
    gx, gw, gb = _correct_backward(gy, x, w, b, stride, padding)
    return gx, gw[:, :, ::-1, ::-1], gb
