# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: im2col
# expect: order the rows c, then p, then q
_correct_im2col = im2col


def im2col(x, kh, kw, stride=1, padding=0):
    col = _correct_im2col(x, kh, kw, stride, padding)
    n, c = x.shape[:2]
    return col.reshape(n, c, kh, kw, -1).transpose(0, 2, 3, 1, 4).reshape(col.shape)
