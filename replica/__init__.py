"""`kpledger replica`: follow a source's witnessed log, verify, append as import does, serve."""
