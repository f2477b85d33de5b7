"""Hand-checked tests, one file per rule family of the contract."""
