"""Routes: the log as c2sp.org/tlog-tiles, hash tiles and entry bundles.

Hash tiles need no token and are slices of the perfect subtrees' roots the read model
keeps for proofs; a tile already held is answered without asking the store anything.
Entry bundles read the log by position range, for a token that reads everything. Full
tiles never change (cached a year, `immutable`); partial ones are cached 10 seconds. Both
kinds carry those headers (`public`, as the protocol writes them); entry bundles also
`Vary: Authorization`, so that a shared cache serves a copy only to the same token.
"""

from __future__ import annotations

import gzip
import threading
from typing import Annotated

from fastapi import APIRouter, FastAPI, Path, Request, Response

from api.auth import CurrentActor, require_reader_of_everything
from api.deps import ReadsDep
from api.openapi import errors
from ledger.errors import LedgerError
from ledger.log import LogEntry
from ledger.merkle import entry_leaf
from ledger.tiles import (
    TILE_WIDTH,
    BundleCache,
    TilePath,
    entry_bundle,
    hash_tile,
    parse_tile_path,
)
from projections.proofs import LogTree
from projections.reads import Reads

__all__ = ["FULL_TILE_CACHE", "PARTIAL_CACHE", "router"]

router = APIRouter(tags=["transparency log"])

FULL_TILE_CACHE = "public, max-age=31536000, immutable"
PARTIAL_CACHE = "public, max-age=10"
_OCTETS = "application/octet-stream"
_cache_lock = threading.Lock()

TilePathText = Annotated[
    str,
    Path(
        description="`<N>` or `<N>.p/<W>`: the tile index as x-prefixed 3-digit elements "
        "(1234067 is x001/x234/067), and for a partial tile its width from 1 to 255"
    ),
]


def _tile_path(text: str) -> TilePath:
    try:
        return parse_tile_path(text)
    except ValueError as error:
        raise LedgerError("not_found", str(error)) from None


@router.get(
    "/tile/entries/{path:path}",
    response_class=Response,
    responses={
        200: {"content": {_OCTETS: {}}, "description": "the entry bundle"},
        **errors(403, 404, 503),
    },
)
def get_entry_bundle(
    path: TilePathText, request: Request, reads: ReadsDep, actor: CurrentActor
) -> Response:
    """An entry bundle of c2sp.org/tlog-tiles: the leaves of entries N*256 to N*256+W-1
    (each entry's RFC 8785 JSON as `GET /v1/events` serves it), each after its length as
    a big-endian uint16; gzip-encoded when the client accepts it. A token that reads
    everything; 404 for a bundle the log does not hold yet. Full bundles never change:
    each is read from the store once and kept, compressed, while memory allows."""
    require_reader_of_everything(actor)
    tile = _tile_path(f"entries/{path}")
    cache = _bundle_cache(request.app)
    compressed = cache.get(tile.index) if tile.width is None else None
    if compressed is None:
        body = _read_bundle(reads, tile)
        compressed = gzip.compress(body, compresslevel=1, mtime=0)
        if tile.width is None:
            cache.put(tile.index, compressed)
    headers = {
        "Cache-Control": FULL_TILE_CACHE if tile.width is None else PARTIAL_CACHE,
        "Vary": "Accept-Encoding, Authorization",
    }
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(compressed, media_type=_OCTETS, headers=headers)
    return Response(gzip.decompress(compressed), media_type=_OCTETS, headers=headers)


def _bundle_cache(app: FastAPI) -> BundleCache:
    with _cache_lock:
        cache: BundleCache | None = getattr(app.state, "bundle_cache", None)
        if cache is None:
            cache = app.state.bundle_cache = BundleCache()
        return cache


def _read_bundle(reads: Reads, tile: TilePath) -> bytes:
    """The bundle's bytes, its entries read from the log by position range."""
    first, count = tile.index * TILE_WIDTH, tile.hashes
    positions = _positions(reads.proofs, first, count)
    if positions is None:
        positions = reads.with_proofs(lambda tree: _positions(tree, first, count))
    if positions is None:
        raise LedgerError("not_found", f"the log does not hold {tile} yet")
    entries = reads.log.read_log(after=positions[0] - 1, limit=count)
    if [entry.position for entry in entries] != positions:
        raise LedgerError("not_found", f"the log no longer holds every entry of {tile}")
    try:
        return entry_bundle(_leaf(entry) for entry in entries)
    except ValueError as error:
        raise LedgerError("document_too_large", f"{tile}: {error}") from None


@router.get(
    "/tile/{level}/{path:path}",
    response_class=Response,
    responses={
        200: {"content": {_OCTETS: {}}, "description": "the hash tile"},
        **errors(404, 503),
    },
)
def get_hash_tile(
    level: Annotated[str, Path(description="the tile's level, 0 to 63")],
    path: TilePathText,
    reads: ReadsDep,
) -> Response:
    """A hash tile of c2sp.org/tlog-tiles: the Merkle tree hashes of 256^L leaves each,
    from hash N*256 on, 256 of them (8,192 bytes) or W for a partial tile; no token.
    404 for a tile the tree does not hold yet."""
    tile = _tile_path(f"{level}/{path}")
    if tile.level is None:  # `entries` is answered by the route above
        raise LedgerError("not_found", f"no tile {tile}")
    level_, index, width = tile.level, tile.index, tile.width
    body = hash_tile(reads.proofs.tree, level_, index, width)  # held already: no store
    if body is None:
        body = reads.with_proofs(lambda tree: hash_tile(tree.tree, level_, index, width))
    if body is None:
        raise LedgerError("not_found", f"the tree does not hold {tile} yet")
    cache = FULL_TILE_CACHE if width is None else PARTIAL_CACHE
    return Response(body, media_type=_OCTETS, headers={"Cache-Control": cache})


def _positions(tree: LogTree, first: int, count: int) -> list[int] | None:
    """The positions of leaves `first` to `first + count - 1`, or None if not all held."""
    if first + count > len(tree.positions):
        return None
    return list(tree.positions[first : first + count])


def _leaf(entry: LogEntry) -> bytes:
    """An entry's leaf; the empty leaf for one stored without the shape of an entry (as
    the tree hashed it: see `projections.proofs.unshaped_leaf`)."""
    try:
        return entry_leaf(entry)
    except (KeyError, TypeError, ValueError):
        return b""
