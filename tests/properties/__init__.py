"""Hypothesis properties, each with an ID and a one-sentence statement."""
