"""Pure risk math: weights, health figures, action checks, liquidation, liquidation price."""
