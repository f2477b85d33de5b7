"""Reading and writing market files and position books."""

from xmargin.io.market_file import dump_market, load_market, market_to_dict, parse_market

__all__ = ["dump_market", "load_market", "market_to_dict", "parse_market"]
