"""One thread for torch and one for numpy's BLAS wherever the composer runs: the one place that
says why, called by every way in (Composer.load, MelodyComposer.load, the server's composer
processes, and so the CLI, `models.evaluate` and the benches).

The composer's matrices are small (a batch of 1-64 rows, 256 hidden units), too small for a
second thread to pay for its hand-over, and BLAS/OpenMP threads spin-wait for siblings: on a busy
2-core machine a piece measured ~500 ms of CPU with the default threads against 25 ms with one,
and batches of 64 ran 11-234 pieces/s against 295-423. The output is the same either way.
Training is the exception (`models.train --threads`): there the matrices are large.
"""

from __future__ import annotations


def one_thread_each() -> None:
    import numpy  # noqa: F401  (loaded first, so that threadpoolctl finds its BLAS)
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(1)
