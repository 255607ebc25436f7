"""Matrix products in the shapes EM makes, at the speed BLAS gives to cache-sized ones."""
import numpy as np

#: Rows per block of ``transposed_product``: a block of a few hundred kilobytes stays in cache.
BLOCK_ROWS = 16384


def transposed_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a^T b = sum_n a_n b_n^T for tall a (N, K) and b (N, P), shape (K, P).

    This is how every E step sums its statistics (R^T T, alpha^T W). One BLAS call with an inner dimension of
    N = 10^5 or more runs several times slower than the same product taken over blocks of rows and added up
    (OpenBLAS, measured: 0.48 ms against 0.16 ms for N = 10^5, K = P = 4), so it is taken in blocks.
    """
    N = len(a)
    if N <= BLOCK_ROWS:
        return a.T @ b
    out = a[:BLOCK_ROWS].T @ b[:BLOCK_ROWS]
    for start in range(BLOCK_ROWS, N, BLOCK_ROWS):
        out += a[start:start + BLOCK_ROWS].T @ b[start:start + BLOCK_ROWS]
    return out
