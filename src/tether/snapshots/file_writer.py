"""Writing a snapshot file: JSON, gzip-compressed on request (the format is
described in serialize.py, which reads it back).

The writer only reads the snapshots' public attributes and is told which
kind of snapshot it writes, so it needs none of the snapshot types: they
call it from their save() (snapshot_types.py), and serialize.py builds them
when reading. Memory is written in pieces, so saving a large snapshot does
not build one huge string."""
from __future__ import annotations

import base64
import gzip
import io
import json
import os

from ..safe_files import atomic_write

__all__ = ["write_snapshot", "FORMAT", "VERSION"]

FORMAT = "tether-snapshot"
VERSION = 1
_CHUNK = 3 * (1 << 20)        # a multiple of 3: base64 pieces then concatenate cleanly


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _map_record(m) -> dict:
    return {"start": m.start, "end": m.end, "permissions": m.permissions, "offset": m.offset,
            "backing_file": m.backing_file, "base": m.file_base}


def _write_process(out, snap, threads, tid) -> None:
    image = snap.image
    head = {
        "pid": image.pid, "level": image.level, "name": snap.name, "snapshot_id": snap.snapshot_id,
        "arch": image.arch, "binary_path": image.binary_path, "tid": tid,
        "threads": [{"tid": t.tid, "gpr": _b64(t.gpr_bytes), "xstate": _b64(t.xstate_bytes)}
                    for t in threads],
        "skipped_threads": [{"tid": k, "reason": v}
                            for k, v in getattr(snap, "skipped_threads", {}).items()],
        "maps": [_map_record(m) for m in image.maps],
        "skipped": [{"start": k, "reason": v} for k, v in image.skipped.items()],
    }
    text = json.dumps(head)
    out.write(text[:-1] + ', "memory": [')
    first = True
    for m in image.maps:
        if m.content is None:
            continue
        out.write(("" if first else ", ") + '{"start": %d, "data": "' % m.start)
        first = False
        content = m.content
        for i in range(0, len(content), _CHUNK):
            out.write(_b64(content[i:i + _CHUNK]))
        out.write('"}')
    out.write("]}")


def write_snapshot(snap, kind, path, compress: bool | None = None) -> None:
    """Write `snap`, a snapshot of `kind` ("process", "thread" or "tree"),
    to `path`; gzip-compressed when `compress` is True or (by default) when
    the path ends with ".gz". The file appears whole or not at all, with
    mode 0600, and is never written through a symlink (see atomic_write). Any
    other kind (None: `snap` is no snapshot) is a TypeError, raised after
    the path and compress arguments are checked."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or path-like, not {type(path).__name__}")
    if compress is None:
        compress = os.fspath(path).endswith(".gz")
    elif not isinstance(compress, bool):
        raise TypeError("compress must be a bool or None")
    if kind not in ("tree", "process", "thread"):
        raise TypeError(f"cannot save a {type(snap).__name__}: not a snapshot")
    # A temporary file only this call can have created, renamed over `path`
    # when whole (safe_files.atomic_write): never written through a symlink.
    with atomic_write(path) as raw:
        # filename="" and mtime=0: the gzip header names no temporary file.
        packed = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) if compress else None
        out = io.TextIOWrapper(packed or raw, encoding="utf-8")
        if kind == "tree":
            out.write('{"format": "%s", "version": %d, "kind": "tree", "tree": ' % (FORMAT, VERSION))
            out.write(json.dumps({"level": snap.level, "name": snap.name,
                                  "snapshot_id": snap.snapshot_id})[:-1] + ', "processes": [')
            for i, p in enumerate(snap.processes):
                out.write(("" if i == 0 else ", ") + '{"path": %s, "process": '
                          % json.dumps(list(snap.path_of(p.pid))))
                _write_process(out, p, p.threads, None)
                out.write("}")
            out.write("]}}")
        else:
            out.write('{"format": "%s", "version": %d, "kind": "%s", "snapshot": '
                      % (FORMAT, VERSION, kind))
            if kind == "process":
                _write_process(out, snap, snap.threads, None)
            else:
                _write_process(out, snap, [snap], snap.tid)
            out.write("}")
        out.flush()
        out.detach()  # `raw` stays open: atomic_write fsyncs and closes it
        if packed is not None:
            packed.close()  # writes the gzip trailer into `raw`
