"""Differentiable ops: ``Function`` subclasses (named ``<Op>Fn``) whose forward and backward
work on raw arrays, in two tiers.

- The tensor ops, which ``Tensor``'s operators and methods run and which therefore never import
  ``tensor``: ``elementwise``, ``linalg``, ``reduce``, ``shape`` (with ``broadcast``), the free
  functions of ``functions`` (``mt.cat``, ``mt.where`` ...) and the shared argument checks of
  ``arguments``.
- Every other op (``conv``, ``pool``, ``normalization``, ``lrn``, ``loss`` ...), which may build on
  ``Tensor``. Their public functions are the ``minitorch_cnn.nn.functional`` namespace.

The tiers are the layers 4 and 6 of docs/engine.md, checked by tests/test_architecture.py.
"""
