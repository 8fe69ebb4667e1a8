"""Layers: ``Module`` and ``Parameter``, containers, and the layers built on ``functional``."""
from . import functional, init
from .containers import ModuleDict, ModuleList, Sequential
from .linear import Flatten, Identity, Linear
from .module import Module
from .parameter import Parameter
# --- convolution ---
from .conv import Conv2d, ConvTranspose2d
# --- pooling and locally-connected ---
from .local import LocallyConnected2d
from .pooling import (AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d, MaxUnpool2d,
                      SpatialPyramidPooling2d)
# --- normalization ---
from .normalization import (BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm1d, InstanceNorm2d,
                            LayerNorm, LocalResponseNorm)
# --- activations, dropout, losses ---
from .activation import ELU, ChannelShuffle, LeakyReLU, LogSoftmax, ReLU, ReLU6, Sigmoid, Tanh
from .activation import Softmax
from .dropout import Dropout, Dropout2d
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
# --- graphs ---
from .graph import GraphConv
# --- recurrent and embedding ---
from .rnn import LSTM, LSTMCell
from .sparse import Embedding
# --- data parallelism (mt.nn.parallel, SyncBatchNorm) ---
from .sync_batchnorm import SyncBatchNorm  # noqa: E402
from . import parallel  # noqa: E402,F401
# --- capsules ---
from .capsule import PrimaryCapsules, RoutingCapsules
# --- resizing ---
from .upsample import Upsample
# --- mt.nn.utils: gradient clipping, parameter vectors ---
from . import utils  # noqa: E402
