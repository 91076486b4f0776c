"""Snapshots of threads, processes and process trees, their diffs, and their
JSON files (libdebug's save states; see snapshot.py)."""
from .diff import ChangedRange, Diff, MapsDiff, RegisterDiff, TreeDiff
from .memory import MemoryNotCapturedError
from .snapshot import (ProcessSnapshot, ThreadSnapshot, TreeSnapshot, load_snapshot, process_snapshot,
                       thread_snapshot, tree_snapshot)

__all__ = ["ChangedRange", "Diff", "MapsDiff", "MemoryNotCapturedError", "ProcessSnapshot",
           "RegisterDiff", "ThreadSnapshot", "TreeDiff", "TreeSnapshot", "load_snapshot",
           "process_snapshot", "thread_snapshot", "tree_snapshot"]
