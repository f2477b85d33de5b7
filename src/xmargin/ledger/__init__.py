"""Actions that change a market's balances: validate, apply, post-check, record."""
