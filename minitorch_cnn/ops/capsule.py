"""Capsule ops (Sabour, Frosst & Hinton, "Dynamic routing between capsules", NIPS 2017):
``squash``, ``dynamic_routing`` (the paper's Procedure 1) and ``margin_loss`` (its eq. 4).

``squash`` and ``dynamic_routing`` are ``Function``s with analytic backwards. The routing runs
its iterations as a Python loop (3 in the paper) but every step of an iteration is one batched
product over all capsules at once: the prediction vectors are kept as (N, out_caps, in_caps,
out_dim), so that s_j = sum_i c_ij u_hat_ij and the agreements u_hat_ij . v_j are batched
GEMMs over (N, out_caps) of (1 x in_caps) (in_caps x out_dim) and (in_caps x out_dim)
(out_dim x 1), and the gradient of u_hat of all iterations together is one batched GEMM of
inner size 2 x iterations. Backward saves only the coupling coefficients, s and v of each
iteration (N x in_caps x out_caps and N x out_caps x out_dim each) besides u_hat.
"""
import numpy as np

from ..autograd import Function
from ..backend import xp as array_module
from ..tensor import Tensor
from .activation import relu


def _squash(s, axis):
    """(v, |s|) with v = |s|^2 / (1 + |s|^2) * s / |s| = s |s| / (1 + |s|^2): no division by
    |s|, so v = 0 at s = 0."""
    xp = array_module(s)
    norm = xp.sqrt((s * s).sum(axis=axis, keepdims=True))
    return s * (norm / (1 + norm * norm)), norm


def _squash_backward(s, norm, gv, axis):
    """ds of v = s f(n), f(n) = n / (1 + n^2), n = |s|: gs = f(n) gv + f'(n) / n (s . gv) s,
    f'(n) = (1 - n^2) / (1 + n^2)^2. f'(n) / n has a pole at n = 0 but (s . gv) s is O(n^2)
    there, so the term is computed with n replaced by 1 where it is 0 (where s, and the term, are
    0): the Jacobian at s = 0 is 0, the limit of f(n) -> 0."""
    xp = array_module(s)
    sq = norm * norm
    gs = gv * (norm / (1 + sq))
    coef = (1 - sq) / ((1 + sq) ** 2 * xp.where(norm > 0, norm, 1))
    gs += s * ((s * gv).sum(axis=axis, keepdims=True) * coef)
    return gs


class SquashFn(Function):
    @staticmethod
    def forward(ctx, s, dim):
        v, norm = _squash(s, dim)
        ctx.save_for_backward(s, norm)
        ctx.dim = dim
        return v

    @staticmethod
    def backward(ctx, gv):
        s, norm = ctx.saved_tensors
        return _squash_backward(s, norm, gv, ctx.dim)


def _softmax(b, axis):
    xp = array_module(b)
    c = xp.exp(b - b.max(axis=axis, keepdims=True))
    c /= c.sum(axis=axis, keepdims=True)
    return c


class DynamicRoutingFn(Function):
    """Routing by agreement on u_hat (N, I, J, D); returns v (N, J, D).

    Inside, u (N, J, I, D) is u_hat with the capsule axes swapped (one copy), and the logits
    b and couplings c are (N, J, I), softmax over J (axis 1). Iteration r:
        c_r = softmax(b_r),  s_r = c_r u (per (n, j): (1 x I)(I x D)),  v_r = squash(s_r),
        b_{r+1} = b_r + u v_r (per (n, j): (I x D)(D x 1))     (all but the last iteration)
    with b_0 = 0. Backward goes through the iterations in reverse with gb, the gradient of the
    current logits (0 after the last iteration):
        gv_r = (the output's gradient if r is last) + gb u          (from b_{r+1})
        gs_r = squash'(s_r) gv_r,    gc_r = u gs_r,    gb <- gb + softmax'(c_r) gc_r
        gu   = sum_r c_r (x) gs_r + gb_{r+1} (x) v_r    (one GEMM of inner size 2R at the end).
    With ``detach_coupling`` the c_r are constants: only the last iteration's c (x) gs remains.
    """

    @staticmethod
    def forward(ctx, u_hat, iterations, detach_coupling):
        xp = array_module(u_hat)
        u = xp.ascontiguousarray(u_hat.transpose(0, 2, 1, 3))        # (N, J, I, D)
        b = xp.zeros(u.shape[:3], dtype=u.dtype)
        cs, ss, norms, vs = [], [], [], []
        for r in range(iterations):
            c = _softmax(b, 1)
            s = (c[:, :, None, :] @ u)[:, :, 0, :]                    # (N, J, D)
            v, norm = _squash(s, -1)
            for saved, value in ((cs, c), (ss, s), (norms, norm), (vs, v)):
                saved.append(value)
            if r + 1 < iterations:
                b = b + (u @ v[:, :, :, None])[..., 0]                # (N, J, I)
        if detach_coupling:
            cs, ss, norms, vs = cs[-1:], ss[-1:], norms[-1:], vs[-1:]
        ctx.save_for_backward(u, *cs, *ss, *norms, *vs)
        ctx.iterations, ctx.detach = len(cs), detach_coupling
        return v

    @staticmethod
    def backward(ctx, gv):
        xp = array_module(gv)
        u, *saved = ctx.saved_tensors
        k = ctx.iterations
        cs, ss, norms, vs = (saved[q * k:(q + 1) * k] for q in range(4))
        left, right = [], []                     # gu = concat(left) @ concat(right)
        gb = None
        for r in reversed(range(k)):
            if gb is not None:                   # b_{r+1} = b_r + u v_r
                gv = (gb[:, :, None, :] @ u)[:, :, 0, :]
                left.append(gb[..., None])
                right.append(vs[r][:, :, None, :])
            gs = _squash_backward(ss[r], norms[r], gv, -1)
            left.append(cs[r][..., None])
            right.append(gs[:, :, None, :])
            if ctx.detach or r == 0:
                break
            gc = (u @ gs[..., None])[..., 0]      # (N, J, I)
            c = cs[r]
            gb_r = c * (gc - (gc * c).sum(axis=1, keepdims=True))
            gb = gb_r if gb is None else gb + gb_r
        gu = xp.concatenate(left, axis=-1) @ xp.concatenate(right, axis=-2)
        return gu.transpose(0, 2, 1, 3)


# --- the public functions (re-exported by nn.functional) --------------------------------------
def squash(s, dim=-1):
    """The capsule non-linearity (Sabour et al. 2017, eq. 1): v = |s|^2 / (1 + |s|^2) s / |s|
    along ``dim``. Short vectors shrink to almost 0, long ones to just below length 1, so a
    capsule's length reads as a probability. Computed as s |s| / (1 + |s|^2): 0 at s = 0, with
    a zero (not NaN) gradient there."""
    if not isinstance(s, Tensor) or s.ndim == 0:
        raise ValueError(f"squash: expected a tensor of at least one dimension, got "
                         f"{getattr(s, 'shape', type(s).__name__)}")
    if not -s.ndim <= dim < s.ndim:
        raise ValueError(f"squash: dim {dim} is out of range for an input of shape {s.shape}")
    return SquashFn.apply(s, dim=dim % s.ndim)


def dynamic_routing(u_hat, iterations=3, detach_coupling=False):
    """Routing by agreement (Sabour et al. 2017, Procedure 1).

    ``u_hat`` (N, in_caps, out_caps, out_dim) holds the prediction vectors u_hat_j|i = W_ij u_i.
    The logits b_ij start at 0; each of ``iterations`` rounds takes c_ij = softmax_j(b_ij),
    s_j = sum_i c_ij u_hat_j|i, v_j = squash(s_j) and, except after the last, adds the agreement
    b_ij += u_hat_j|i . v_j. Returns v (N, out_caps, out_dim). The paper uses 3 iterations.

    ``detach_coupling=False`` (the default) backpropagates through every iteration, the
    couplings c included, as the paper's TensorFlow code does. ``detach_coupling=True`` treats
    the couplings as constants (a common variant: gradients reach u_hat only through the last
    s_j = sum_i c_ij u_hat_j|i), cheaper and seen as more stable by some implementations.
    """
    if not isinstance(u_hat, Tensor) or u_hat.ndim != 4:
        raise ValueError(f"dynamic_routing: expected u_hat of shape (N, in_caps, out_caps, "
                         f"out_dim), got {getattr(u_hat, 'shape', type(u_hat).__name__)}")
    if int(iterations) != iterations or iterations < 1:
        raise ValueError(f"dynamic_routing: iterations must be an integer >= 1, got "
                         f"{iterations!r} (u_hat of shape {u_hat.shape})")
    return DynamicRoutingFn.apply(u_hat, iterations=int(iterations),
                                  detach_coupling=bool(detach_coupling))


def margin_loss(lengths, target, m_pos=0.9, m_neg=0.1, lam=0.5, reduction="mean"):
    """The margin loss of capsule lengths (Sabour et al. 2017, eq. 4), summed over classes:
    L = sum_k T_k max(0, m+ - |v_k|)^2 + lam (1 - T_k) max(0, |v_k| - m-)^2, with T_k = 1 for
    the target class. ``lengths`` (N, classes), ``target`` (N,) class indices; ``reduction``
    "mean" (over the batch, the default), "sum" or "none" ((N,) losses). The paper:
    m+ = 0.9, m- = 0.1, lam = 0.5 (which stops the absent classes' lengths shrinking all
    capsules early in training)."""
    if not isinstance(lengths, Tensor) or lengths.ndim != 2:
        raise ValueError(f"margin_loss: expected lengths of shape (N, classes), got "
                         f"{getattr(lengths, 'shape', type(lengths).__name__)}")
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    n, k = lengths.shape
    if t.shape != (n,) or t.dtype.kind not in "iu":
        raise ValueError(f"margin_loss: expected target of shape ({n},) of class indices for "
                         f"lengths of shape {lengths.shape}, got {tuple(t.shape)} {t.dtype}")
    if n and (int(t.min()) < 0 or int(t.max()) >= k):
        raise ValueError(f"margin_loss: target classes must be in [0, {k}) for lengths of "
                         f"shape {lengths.shape}, got values in [{int(t.min())}, {int(t.max())}]")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"margin_loss: reduction must be 'mean', 'sum' or 'none', got "
                         f"{reduction!r}")
    xp = array_module(lengths.data)
    onehot = xp.zeros(lengths.shape, dtype=lengths.dtype)
    onehot[xp.arange(n), xp.asarray(t)] = 1
    present = relu(m_pos - lengths)
    absent = relu(lengths - m_neg)
    losses = (present * present * onehot + absent * absent * (lam * (1 - onehot))).sum(axis=1)
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()
