"""Exercise 2: element-wise activations, ReLU and the logistic sigmoid.

    relu(x) = max(x, 0)                 relu'(x) = 1 where x > 0, else 0
    sigmoid(x) = 1 / (1 + exp(-x))      sigmoid'(x) = sigmoid(x) (1 - sigmoid(x))

A backward function receives gy = dL/dy (same shape as x) and returns dL/dx = gy * y'(x): the
chain rule, element by element. For large negative x, exp(-x) overflows: write sigmoid so that
it never computes exp of a large positive number.

Check with:  python -m minitorch_cnn.exercises check DIR activations
"""
import numpy as np  # noqa: F401


def relu_forward(x):
    raise NotImplementedError


def relu_backward(gy, x):
    """dL/dx for y = relu(x)."""
    raise NotImplementedError


def sigmoid_forward(x):
    raise NotImplementedError


def sigmoid_backward(gy, x):
    """dL/dx for y = sigmoid(x)."""
    raise NotImplementedError
