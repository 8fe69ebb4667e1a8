# ruff: noqa: F821  (a fragment: appended to the reference solution, whose names it uses)
# function: cross_entropy_forward
# expect: mean, not sum
def cross_entropy_forward(x, target):
    z = x - x.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(x)), target].sum())
