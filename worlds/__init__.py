"""Worlds to load into a ledger: the demonstration world and the synthetic generator."""
