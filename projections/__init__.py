"""The read side of kpledger: projections rebuilt from the log of accepted documents alone."""
