# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: conv2d_backward_im2col
# expect: sum the per-image products over the batch
_correct_backward = conv2d_backward_im2col


def conv2d_backward_im2col(gy, x, w, b, stride=1, padding=0):
    gx, gw, gb = _correct_backward(gy, x, w, b, stride, padding)
    return gx, np.repeat(gw[None] / len(x), len(x), axis=0), gb
