"""Snapshots on disk: JSON, optionally gzip-compressed. Never pickle.

Document (version 1):
  {"format": "tether-snapshot", "version": 1, "kind": "process" | "thread" | "tree",
   "snapshot": <process>                      (kinds "process" and "thread")
   "tree": {"level", "name", "snapshot_id",
            "processes": [{"path": [int...], "process": <process>}]}   (kind "tree")}
  <process> = {"pid", "level", "name", "snapshot_id", "arch", "binary_path",
     "tid": the thread of a thread snapshot (null for a process snapshot),
     "threads": [{"tid", "gpr": base64 (216 bytes), "xstate": base64}],
     "skipped_threads": [{"tid", "reason"}],
     "maps": [{"start", "end", "permissions", "offset", "backing_file", "base"}],
     "skipped": [{"start", "reason"}],
     "memory": [{"start": a map's start, "data": base64 of the whole map}]}

Loading only parses JSON and checks every field's type, range and size, so
a corrupted or hostile file gives a ValueError naming what is wrong and
never runs code. It reads only a regular file, of at most max_size bytes of
JSON (inflated: gzip data is inflated piece by piece and refused past the
limit), and never opens a file the snapshot names (its maps' backing files)
unless asked to with read_mapped_files=True. Memory is written in pieces,
so saving a large snapshot does not build one huge string.

file_writer.py writes the files; this module reads them, and its
save_snapshot() tells the writer which kind of snapshot it is given.
"""
from __future__ import annotations

import base64
import builtins
import binascii
import json
import os
import re
import zlib

from ..arch import ARCHES
from ..arch.amd64.registers import GPR_SIZE
from ..safe_files import read_whole
from .file_writer import FORMAT, VERSION, write_snapshot
from .memory import LEVELS, SnapshotMap
from .snapshot_types import ProcessImage, ProcessSnapshot, ThreadSnapshot, TreeSnapshot

__all__ = ["save_snapshot", "read_snapshot", "parse_snapshot", "FORMAT", "VERSION", "MAX_SIZE"]

# The default bound on a snapshot's JSON text (inflated): the parsed document
# costs a few times this in memory. A larger snapshot loads with max_size=.
MAX_SIZE = 256 << 20
_INFLATE_STEP = 1 << 20

_GZIP_MAGIC = b"\x1f\x8b"
_U64_END = 1 << 64
_PAGE = 4096
_MAX_XSTATE = 64 * 1024       # XSAVE areas are a few KiB (AMX tiles make ~11 KiB)
_MAX_PID = 1 << 22            # PID_MAX_LIMIT on 64-bit Linux (include/linux/threads.h)
_PERMISSIONS = re.compile(r"[r-][w-][x-][psS]\Z")


# --- writing (file_writer.py writes; this only says which kind a snapshot is) --------------

def save_snapshot(snap, path, compress: bool | None = None) -> None:
    if isinstance(snap, TreeSnapshot):
        kind = "tree"
    elif isinstance(snap, ProcessSnapshot):
        kind = "process"
    elif isinstance(snap, ThreadSnapshot):
        kind = "thread"
    else:
        kind = None  # write_snapshot checks its other arguments first, then refuses
    write_snapshot(snap, kind, path, compress)


# --- reading and validating --------------------------------------------------------------

def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constants(name):
    raise ValueError(f"{name} is not valid JSON here")


class _Checker:
    """Typed access to a parsed JSON object, with errors naming the field."""

    def __init__(self, obj, where: str, keys: tuple):
        if not isinstance(obj, dict):
            raise ValueError(f"{where} must be a JSON object, not {type(obj).__name__}")
        extra = set(obj) - set(keys)
        if extra:
            raise ValueError(f"{where} has unknown field(s): {', '.join(sorted(extra))}")
        missing = [k for k in keys if k not in obj]
        if missing:
            raise ValueError(f"{where} lacks field(s): {', '.join(missing)}")
        self.obj, self.where = obj, where

    # The methods are named after the JSON types they check; inside the
    # class those names are the methods, so annotations spell the builtins.
    def int(self, key, lo=0, hi=_U64_END) -> builtins.int:
        v = self.obj[key]
        if type(v) is not int:
            raise ValueError(f"{self.where}.{key} must be an integer, not {type(v).__name__}")
        if not lo <= v < hi:
            raise ValueError(f"{self.where}.{key} = {v} is out of range [{lo}, {hi})")
        return v

    def str(self, key, none_ok=False):
        v = self.obj[key]
        if v is None and none_ok:
            return None
        if not isinstance(v, str):
            raise ValueError(f"{self.where}.{key} must be a string, not {type(v).__name__}")
        return v

    def list(self, key) -> builtins.list:
        v = self.obj[key]
        if not isinstance(v, list):
            raise ValueError(f"{self.where}.{key} must be a list, not {type(v).__name__}")
        return v

    def bytes(self, key, max_size: builtins.int) -> builtins.bytes:
        text = self.str(key)
        # Check the length first: never decode more than the field may hold.
        if len(text) > 4 * ((max_size + 2) // 3):
            raise ValueError(f"{self.where}.{key} is larger than {max_size} bytes")
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"{self.where}.{key} is not valid base64") from None


_PROCESS_KEYS = ("pid", "level", "name", "snapshot_id", "arch", "binary_path", "tid", "threads",
                 "skipped_threads", "maps", "skipped", "memory")


def _parse_maps(c: _Checker) -> list:
    maps, previous_end = [], 0
    for i, raw in enumerate(c.list("maps")):
        m = _Checker(raw, f"{c.where}.maps[{i}]", ("start", "end", "permissions", "offset",
                                                    "backing_file", "base"))
        start, end = m.int("start"), m.int("end", 1, _U64_END + 1)
        if end <= start or start % _PAGE or end % _PAGE:
            raise ValueError(f"{m.where}: [{start:#x}, {end:#x}) is not a page-aligned, non-empty range")
        if start < previous_end:
            raise ValueError(f"{m.where} overlaps the previous map or is out of order")
        previous_end = end
        perms = m.str("permissions")
        if not _PERMISSIONS.match(perms):
            raise ValueError(f"{m.where}.permissions {perms!r} is not like 'r-xp'")
        name = m.str("backing_file")
        if "\n" in name or "\0" in name:
            raise ValueError(f"{m.where}.backing_file contains a newline or NUL")
        maps.append([start, end, perms, m.int("offset"), name, m.int("base")])
    return maps


def _parse_process(raw, where: str, kind: str, read_mapped_files: bool):
    c = _Checker(raw, where, _PROCESS_KEYS)
    pid = c.int("pid", 1, _MAX_PID + 1)
    level = c.str("level")
    if level not in LEVELS:
        raise ValueError(f"{where}.level must be one of {', '.join(LEVELS)}, not {level!r}")
    name = c.str("name", none_ok=True)
    snapshot_id = c.int("snapshot_id", 0, 1 << 63)
    arch = c.str("arch")
    if arch not in ARCHES:
        known = ", ".join(map(repr, ARCHES))
        raise ValueError(f"{where}.arch {arch!r} is not supported (only {known})")
    binary_path = c.str("binary_path", none_ok=True)

    maps = _parse_maps(c)
    by_start = {m[0]: m for m in maps}
    skipped = {}
    for i, raw_skip in enumerate(c.list("skipped")):
        s = _Checker(raw_skip, f"{where}.skipped[{i}]", ("start", "reason"))
        start = s.int("start")
        if start not in by_start:
            raise ValueError(f"{s.where}.start {start:#x} is not the start of a map")
        skipped[start] = s.str("reason")
    contents = {}
    memory = c.list("memory")
    if level == "base" and memory:
        raise ValueError(f"{where}: a 'base' snapshot must not hold memory contents")
    for i, raw_mem in enumerate(memory):
        mc = _Checker(raw_mem, f"{where}.memory[{i}]", ("start", "data"))
        start = mc.int("start")
        if start not in by_start:
            raise ValueError(f"{mc.where}.start {start:#x} is not the start of a map")
        if start in contents:
            raise ValueError(f"{mc.where}: the map at {start:#x} has contents twice")
        if start in skipped:
            raise ValueError(f"{mc.where}: the map at {start:#x} is both captured and skipped")
        size = by_start[start][1] - start
        data = mc.bytes("data", size)
        if len(data) != size:
            raise ValueError(f"{mc.where}.data holds {len(data)} bytes, the map is {size} bytes")
        contents[start] = data
    image = ProcessImage(pid, level, [SnapshotMap(s, e, p, e - s, o, f, b, contents.get(s))
                                      for s, e, p, o, f, b in maps], skipped, binary_path,
                         arch, reads_files=read_mapped_files)

    threads, tids = [], set()
    for i, raw_thread in enumerate(c.list("threads")):
        t = _Checker(raw_thread, f"{where}.threads[{i}]", ("tid", "gpr", "xstate"))
        tid = t.int("tid", 1, _MAX_PID + 1)
        if tid in tids:
            raise ValueError(f"{t.where}: thread {tid} appears twice")
        tids.add(tid)
        gpr = t.bytes("gpr", GPR_SIZE)
        if len(gpr) != GPR_SIZE:
            raise ValueError(f"{t.where}.gpr holds {len(gpr)} bytes, user_regs_struct is {GPR_SIZE}")
        xstate = t.bytes("xstate", _MAX_XSTATE)
        if 0 < len(xstate) < 512:
            raise ValueError(f"{t.where}.xstate holds {len(xstate)} bytes, "
                             f"less than the 512-byte FXSAVE region")
        threads.append((tid, gpr, xstate))
    skipped_threads = {}
    for i, raw_skip in enumerate(c.list("skipped_threads")):
        s = _Checker(raw_skip, f"{where}.skipped_threads[{i}]", ("tid", "reason"))
        skipped_threads[s.int("tid", 1, _MAX_PID + 1)] = s.str("reason")

    if kind == "thread":
        tid = c.int("tid", 1, _MAX_PID + 1)
        if len(threads) != 1 or threads[0][0] != tid:
            raise ValueError(f"{where}: a thread snapshot holds exactly its own thread ({tid})")
        return ThreadSnapshot(image, tid, threads[0][1], threads[0][2], snapshot_id, name)
    if c.obj["tid"] is not None:
        raise ValueError(f"{where}.tid must be null in a process snapshot")
    if not threads:
        raise ValueError(f"{where}.threads is empty: a process snapshot holds at least one thread")
    return ProcessSnapshot(image, threads, snapshot_id, name, skipped_threads)


def _parse_tree(raw, read_mapped_files: bool):
    c = _Checker(raw, "tree", ("level", "name", "snapshot_id", "processes"))
    level = c.str("level")
    if level not in LEVELS:
        raise ValueError(f"tree.level must be one of {', '.join(LEVELS)}, not {level!r}")
    processes, paths = [], {}
    seen_paths = set()
    for i, raw_p in enumerate(c.list("processes")):
        e = _Checker(raw_p, f"tree.processes[{i}]", ("path", "process"))
        path_items = e.list("path")
        if any(type(x) is not int or x < 0 for x in path_items) or len(path_items) > 4096:
            raise ValueError(f"{e.where}.path must be a list of non-negative integers")
        path = tuple(path_items)
        if path in seen_paths:
            raise ValueError(f"{e.where}: two processes at tree path {list(path)}")
        seen_paths.add(path)
        p = _parse_process(e.obj["process"], f"{e.where}.process", "process", read_mapped_files)
        if p.pid in paths:
            raise ValueError(f"{e.where}: process {p.pid} appears twice")
        if p.level != level:
            raise ValueError(f"{e.where}: level {p.level!r} differs from the tree's {level!r}")
        processes.append(p)
        paths[p.pid] = path
    if not processes:
        raise ValueError("tree.processes is empty")
    return TreeSnapshot(processes, paths, level, c.int("snapshot_id", 0, 1 << 63),
                        c.str("name", none_ok=True))


def _inflate(data: bytes, limit: int) -> bytes:
    """The bytes a gzip file (one or more members) inflates to, refused with
    a ValueError as soon as they pass `limit`: a small hostile file can
    inflate a thousandfold (a "gzip bomb")."""
    out, total, rest = [], 0, data
    try:
        while True:
            inflater = zlib.decompressobj(wbits=31)  # 31: a gzip header and trailer
            while not inflater.eof:
                piece = inflater.decompress(rest, _INFLATE_STEP)
                rest = inflater.unconsumed_tail
                if not piece and not rest:
                    raise ValueError("not a snapshot file: the gzip data is truncated")
                total += len(piece)
                if total > limit:
                    raise ValueError(f"snapshot file inflates to more than {limit} bytes (the "
                                     f"max_size limit); pass a larger max_size if you trust it")
                out.append(piece)
            rest = inflater.unused_data
            if not rest:
                return b"".join(out)
            if rest[:2] != _GZIP_MAGIC:
                raise ValueError("not a snapshot file: data follows the gzip stream")
    except zlib.error as e:
        raise ValueError(f"not a snapshot file: bad gzip data ({e})") from None


def parse_snapshot(data: bytes, max_size: int = MAX_SIZE, read_mapped_files: bool = False):
    """The snapshot held by the bytes of a saved file (gzip or plain JSON).

    max_size bounds the JSON text (inflated, for gzip data). The snapshot
    reads the files its maps name (for symbols and unwind tables) only with
    read_mapped_files=True."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"parse_snapshot takes bytes, not {type(data).__name__}")
    _check_options(max_size, read_mapped_files)
    if data[:2] == _GZIP_MAGIC:
        data = _inflate(bytes(data), max_size)
    elif len(data) > max_size:
        raise ValueError(f"snapshot file is {len(data)} bytes, more than the max_size limit "
                         f"({max_size}); pass a larger max_size if you trust it")
    try:
        doc = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates,
                         parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise ValueError("not a snapshot file: not UTF-8 text") from None
    except RecursionError:
        raise ValueError("not a snapshot file: JSON nested too deeply") from None
    except ValueError as e:  # json.JSONDecodeError is a ValueError
        raise ValueError(f"not a snapshot file: bad JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"not a snapshot file: no \"format\": \"{FORMAT}\" field")
    kind = doc.get("kind")
    keys = ("format", "version", "kind", "tree" if kind == "tree" else "snapshot")
    top = _Checker(doc, "snapshot file", keys)
    if top.int("version", 0, 1 << 31) != VERSION:
        raise ValueError(f"snapshot file version {doc['version']} is not supported (this tether reads {VERSION})")
    if kind == "tree":
        return _parse_tree(doc["tree"], read_mapped_files)
    if kind not in ("process", "thread"):
        raise ValueError(f"snapshot file kind {kind!r} is not 'process', 'thread' or 'tree'")
    return _parse_process(doc["snapshot"], "snapshot", kind, read_mapped_files)


def _check_options(max_size, read_mapped_files) -> None:
    if type(max_size) is not int or max_size <= 0:
        raise TypeError(f"max_size must be a positive int, not {max_size!r}")
    if not isinstance(read_mapped_files, bool):
        raise TypeError(f"read_mapped_files must be a bool, not {type(read_mapped_files).__name__}")


def read_snapshot(path, max_size: int = MAX_SIZE, read_mapped_files: bool = False):
    """The snapshot in file `path`: only a regular file (a FIFO or a device
    is refused without being read), of at most max_size bytes."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or path-like, not {type(path).__name__}")
    _check_options(max_size, read_mapped_files)
    data = read_whole(path, max_size, "snapshot file")
    try:
        return parse_snapshot(data, max_size, read_mapped_files)
    except ValueError as e:
        raise ValueError(f"{os.fspath(path)}: {e}") from None
