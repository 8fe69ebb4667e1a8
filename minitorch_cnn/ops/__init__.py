"""Differentiable ops: ``Function`` subclasses whose forward and backward work on raw arrays.

Users reach them through ``Tensor`` methods and operators, ``minitorch_cnn`` functions
(``mt.cat``, ``mt.where`` ...) and ``minitorch_cnn.nn.functional``.
"""
