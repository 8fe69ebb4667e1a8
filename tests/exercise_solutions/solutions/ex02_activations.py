"""Exercise 2: element-wise activations, ReLU and the logistic sigmoid.

    relu(x) = max(x, 0)                 relu'(x) = 1 where x > 0, else 0
    sigmoid(x) = 1 / (1 + exp(-x))      sigmoid'(x) = sigmoid(x) (1 - sigmoid(x))

A backward function receives gy = dL/dy (same shape as x) and returns dL/dx = gy * y'(x): the
chain rule, element by element. For large negative x, exp(-x) overflows: write sigmoid so that
it never computes exp of a large positive number.

Check with:  python -m minitorch_cnn.exercises check DIR activations
"""
import numpy as np


def relu_forward(x):
    return np.maximum(x, 0)


def relu_backward(gy, x):
    """dL/dx for y = relu(x)."""
    return gy * (x > 0)


def sigmoid_forward(x):
    e = np.exp(-np.abs(x))  # never exp of a large positive number
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_backward(gy, x):
    """dL/dx for y = sigmoid(x)."""
    s = sigmoid_forward(x)
    return gy * s * (1 - s)
