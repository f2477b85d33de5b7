"""The columnar risk book: every account's figures at once, NumPy kernels."""
