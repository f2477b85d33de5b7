"""Analytics beside the ledger: stress, simulation and calibration reuse the risk kernels."""
