"""Network compression: Deep Compression (Han, Mao & Dally, ICLR 2016) and int8 inference.

The paper's pipeline, which shrinks LeNet-5 39x, AlexNet 35x and VGG-16 49x with no loss of
accuracy: prune the small weights and retrain (``prune_magnitude``, 9-13x), share the
surviving weights through per-layer k-means codebooks and retrain the centroids
(``share_weights``, to 27-31x), Huffman-code the cluster indices and sparse-index gaps
(``huffman_encode``; ``save`` writes the ``.mtc`` file, 35-49x). Besides:
``prune_filters`` (structured L1-norm filter pruning, Li et al. 2017) and ``quantize_int8``
(post-training int8 inference). ``python -m minitorch_cnn compress CKPT`` runs the pipeline.
"""
from .huffman import huffman_decode, huffman_encode
from .mtc import load, save
from .quantize import quantize_int8
from .filters import prune_filters
from .prune import prune_magnitude, remove_masks, sensitivity
from .sharing import kmeans, share_weights

__all__ = ["huffman_decode", "huffman_encode", "kmeans", "load", "prune_filters", "prune_magnitude",
           "quantize_int8", "remove_masks", "save", "sensitivity", "share_weights"]
