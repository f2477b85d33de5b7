"""The float rule source: every rule the float kernels use, written once.

Each rule is the float64 twin of a function of the exact engine (:mod:`xmargin.risk`),
with the same name, symbols and argument order, and property-tested equal to it
(``tests/properties/test_float_twins.py``). Files hold one family of rules each, as the
exact engine does:

- :mod:`~xmargin.fast.weights`: the size haircut (contract 1.2);
- :mod:`~xmargin.fast.health`: the figures of section 2 and the status classification;
- :mod:`~xmargin.fast.liquidation`: the steps of section 3;
- :mod:`~xmargin.fast.liquidation_price`: the price of one asset at health 1 (contract 4);
- :mod:`~xmargin.fast.perps`: perp positions' figures and terms (contract 5.1, 5.2, 5.6);
- :mod:`~xmargin.fast.packing`: the one float packing of a market's parameters, and
  :mod:`~xmargin.fast.perp_packing` its perps';
- :mod:`~xmargin.fast.backend`: the one optional-Numba policy (Numba kernels, else NumPy).

The risk book (:mod:`xmargin.book`) and the simulations (:mod:`xmargin.analytics`) call
these rules from their kernels; neither keeps a copy. A new family (perpetuals) is a new
file here, with a table set of its own in :class:`~xmargin.fast.packing.MarketPack`.
"""
