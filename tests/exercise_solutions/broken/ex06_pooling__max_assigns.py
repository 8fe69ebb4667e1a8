# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: max_pool2d_backward
# expect: add (+=), do not assign (=)
def max_pool2d_backward(gy, x, kernel_size, stride):
    gx = np.zeros_like(x)
    k, s = kernel_size, stride
    for i in range(gy.shape[2]):
        for j in range(gy.shape[3]):
            window = x[:, :, i * s:i * s + k, j * s:j * s + k]
            is_max = window == window.max(axis=(2, 3), keepdims=True)
            old = gx[:, :, i * s:i * s + k, j * s:j * s + k]
            gx[:, :, i * s:i * s + k, j * s:j * s + k] = np.where(
                is_max, gy[:, :, i:i + 1, j:j + 1], old)
    return gx
