"""The write side of kpledger: custody documents, KPCS rules and the append-only log."""
