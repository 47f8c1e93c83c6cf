"""HTTP API and command line of kpledger."""
