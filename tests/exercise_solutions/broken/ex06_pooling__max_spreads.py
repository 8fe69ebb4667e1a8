# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: max_pool2d_backward
# expect: not to every element of the window
def max_pool2d_backward(gy, x, kernel_size, stride):
    gx = np.zeros_like(x)
    k, s = kernel_size, stride
    for i in range(gy.shape[2]):
        for j in range(gy.shape[3]):
            gx[:, :, i * s:i * s + k, j * s:j * s + k] += gy[:, :, i:i + 1, j:j + 1]
    return gx
