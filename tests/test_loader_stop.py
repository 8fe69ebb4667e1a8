"""A consumer that stops early (break, an exception, Ctrl-C) never leaves the DataLoader's
background thread blocked: before the fix, a worker done with its batches waited forever to
queue its end marker on a full queue, and the consumer's join on it hung (an interrupted
training run hung instead of exiting)."""
import threading
import time

import minitorch_cnn as mt
from minitorch_cnn import data


def test_stopping_early_with_a_full_queue_does_not_hang():
    loader = data.DataLoader(data.TensorDataset(mt.zeros(6, 2)), batch_size=2, num_workers=1)
    finished = threading.Event()

    def consume():
        for _ in loader:
            time.sleep(0.3)  # the worker queues the last two batches and reaches the end
            break
        finished.set()
    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert finished.is_set(), "the DataLoader's worker thread blocked the consumer's stop"
