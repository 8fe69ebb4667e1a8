# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: col2im
# expect: add them (+=), do not assign
def col2im(col, x_shape, kh, kw, stride=1, padding=0):
    n, c, in_h, in_w = x_shape
    out_h = (in_h + 2 * padding - kh) // stride + 1
    out_w = (in_w + 2 * padding - kw) // stride + 1
    col = col.reshape(n, c, kh, kw, out_h, out_w)
    xp = np.zeros((n, c, in_h + 2 * padding, in_w + 2 * padding), dtype=col.dtype)
    for p in range(kh):
        for q in range(kw):
            xp[:, :, p:p + stride * out_h:stride, q:q + stride * out_w:stride] = col[:, :, p, q]
    return xp[:, :, padding:padding + in_h, padding:padding + in_w]
