"""`kpledger witness`: a c2sp.org/tlog-witness of its own, for the KP's observers to run.

- `state.py`  the latest cosigned checkpoint per origin, written durably before answering
- `core.py`   add-checkpoint's checks, in the spec's order, and the cosignature
- `server.py` the HTTP service (add-checkpoint, and the monitoring checkpoint)
- `cli.py`    `kpledger witness serve` and `kpledger witness vkey`
"""
