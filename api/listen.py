"""A listening socket for the servers of the command line (`kpledger serve`, `kpledger
witness serve`, `kpledger replica`), with one line on stderr instead of a traceback when it
cannot be had, and the uvicorn server that answers on it."""

from __future__ import annotations

import argparse
import errno
import socket
import sys

from fastapi import FastAPI

__all__ = ["listen", "serve"]


def listen(host: str, port: int) -> socket.socket | None:
    """A socket bound to host:port, handed to uvicorn (so no other process can take the
    port in between); None, after one line on stderr, when it cannot be bound."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError, OverflowError) as error:
        print(f"kpledger: cannot listen on {host}:{port}: {error}", file=sys.stderr)
        return None
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            print(
                f"kpledger: port {port} on {host} is in use; choose another with --port",
                file=sys.stderr,
            )
        else:
            print(f"kpledger: cannot listen on {host}:{port}: {error.strerror}", file=sys.stderr)
        return None
    return listener


def serve(app: FastAPI, listener: socket.socket, args: argparse.Namespace) -> int:
    """Serves `app` on `listener` until stopped, its log lines through api/logs.py."""
    import uvicorn

    from api.logs import configure

    settings = app.state.settings
    configure(settings.log_format, settings.log_level)
    print(
        f"kpledger serving {app.state.ledger.store.description} on http://{args.host}:{args.port}",
        flush=True,
    )
    config = uvicorn.Config(
        app, log_level=settings.log_level, log_config=None, access_log=False
    )  # uvicorn's records go through api/logs.py; its access log stays off (ours replaces it)
    server = uvicorn.Server(config)
    server.run(sockets=[listener])
    return 0
