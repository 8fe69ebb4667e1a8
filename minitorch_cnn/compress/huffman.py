"""Canonical Huffman coding of non-negative integers (Deep Compression step three).

Cluster indices and sparse-index gaps are far from uniform (a few centroids near zero hold
most weights), so a Huffman code saves 20-30% of their bits (Han et al. 2016, section 4: the
last 1.5-2x of the paper's ratios). A canonical code is fixed by each symbol's code length, so
the header stores only (symbol, length) pairs; the codes follow in MSB-first bit order::

    varint n, varint m (distinct symbols), m x (varint symbol delta, u8 length), bits

One distinct symbol takes no bits at all (length 0); the empty input is the two varints 0, 0.
"""
import heapq

import numpy as np
from numba import njit


def _varint(value, out):
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return


def _read_varint(data, pos):
    value = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("huffman_decode: truncated data (header ends inside a number)")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos
        if shift > 70:
            raise ValueError("huffman_decode: corrupt data (a header number is too long)")


def code_lengths(counts):
    """Huffman code lengths for symbol frequencies ``counts`` (one symbol: length 0)."""
    counts = [int(c) for c in counts]
    if len(counts) == 1:
        return [0]
    heap = [(c, i, (i,)) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    lengths = [0] * len(counts)
    tie = len(counts)
    while len(heap) > 1:
        c1, _, s1 = heapq.heappop(heap)
        c2, _, s2 = heapq.heappop(heap)
        for s in s1 + s2:
            lengths[s] += 1
        heapq.heappush(heap, (c1 + c2, tie, s1 + s2))
        tie += 1
    return lengths


def _canonical(symbols, lengths):
    """Codes of the canonical Huffman code: by (length, symbol), each the previous + 1, shifted
    left when the length grows. Returns (order, codes) with ``order`` the (length, symbol)
    sort of the inputs."""
    order = np.lexsort((symbols, lengths))
    codes = np.zeros(len(symbols), np.uint64)
    code, prev = 0, int(lengths[order[0]])
    for rank, i in enumerate(order):
        length = int(lengths[i])
        if rank:
            code = (code + 1) << (length - prev)
        codes[i] = code
        prev = length
    return order, codes


def huffman_encode(symbols):
    """A canonical Huffman code of ``symbols`` (non-negative integers, any shape) as bytes."""
    x = np.asarray(symbols)
    if x.size and x.dtype.kind not in "iub":
        raise ValueError(f"huffman_encode: symbols must be integers, got dtype {x.dtype}")
    x = x.reshape(-1).astype(np.int64)
    if x.size and x.min() < 0:
        raise ValueError(f"huffman_encode: symbols must be non-negative, got {x.min()}")
    out = bytearray()
    _varint(int(x.size), out)
    if x.size == 0:
        _varint(0, out)
        return bytes(out)
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    lengths = np.asarray(code_lengths(counts), np.int64)
    _varint(len(values), out)
    previous = 0
    for v, length in zip(values.tolist(), lengths.tolist()):
        _varint(v - previous, out)
        out.append(length)
        previous = v
    if len(values) == 1:
        return bytes(out)
    _, codes = _canonical(values, lengths)
    sym_len, sym_code = lengths[inverse], codes[inverse]
    starts = np.concatenate([[0], np.cumsum(sym_len)[:-1]])
    bits = np.zeros(int(sym_len.sum()), np.uint8)
    for j in range(int(lengths.max())):
        sel = sym_len > j
        shift = (sym_len[sel] - 1 - j).astype(np.uint64)
        bits[starts[sel] + j] = ((sym_code[sel] >> shift) & np.uint64(1)).astype(np.uint8)
    return bytes(out) + np.packbits(bits).tobytes()


def huffman_decode(data):
    """The symbols (int64 array) that ``huffman_encode`` turned into ``data``; a ValueError if
    ``data`` is truncated or is not such a code."""
    data = bytes(data)
    n, pos = _read_varint(data, 0)
    m, pos = _read_varint(data, pos)
    if n == 0:
        return np.zeros(0, np.int64)
    if m == 0:
        raise ValueError("huffman_decode: corrupt data (symbols but no code)")
    values, lengths, previous = [], [], 0
    for _ in range(m):
        delta, pos = _read_varint(data, pos)
        if pos >= len(data):
            raise ValueError("huffman_decode: truncated data (header ends inside the table)")
        previous += delta
        values.append(previous)
        lengths.append(data[pos])
        pos += 1
    if m == 1:
        return np.full(n, values[0], np.int64)
    values, lengths = np.asarray(values, np.int64), np.asarray(lengths, np.int64)
    if lengths.min() < 1 or lengths.max() > 63 or np.sum(2.0 ** -lengths) > 1.0 + 1e-12:
        raise ValueError("huffman_decode: corrupt data (code lengths are not a prefix code)")
    order, _ = _canonical(values, lengths)
    sorted_lengths = lengths[order]
    max_len = int(sorted_lengths.max())
    count = np.bincount(sorted_lengths, minlength=max_len + 1).astype(np.int64)
    bits = np.unpackbits(np.frombuffer(data, np.uint8, offset=pos))
    out = np.empty(n, np.int64)
    used = _decode(bits, count, values[order], out)
    if used < 0:
        raise ValueError(f"huffman_decode: truncated data ({n} symbols announced, the bits "
                         f"end after fewer)")
    if len(bits) - used >= 8:
        raise ValueError("huffman_decode: corrupt data (bytes left over after the last code)")
    return out


@njit(cache=True)
def _decode(bits, count, symbols, out):
    """Canonical decoding, one bit at a time; returns the bits read, -1 if they ran out."""
    pos = 0
    for i in range(out.size):
        code = 0
        first = 0
        index = 0
        length = 0
        while True:
            if pos >= bits.size or length + 1 >= count.size:
                return -1
            code = (code << 1) | bits[pos]
            pos += 1
            length += 1
            first <<= 1
            c = count[length]
            if code - first < c:
                out[i] = symbols[index + code - first]
                break
            index += c
            first += c
    return pos
