"""The Debugger's snapshots (see tether/snapshots/)."""
from __future__ import annotations

TYPE_CHECKING = False   # (typing.TYPE_CHECKING without importing typing: ~8 ms at start-up)
if TYPE_CHECKING:
    from typing import Any

from .base import FacadeBase

if TYPE_CHECKING:
    from ..snapshots.snapshot_types import ProcessSnapshot, TreeSnapshot


class SnapshotsMixin(FacadeBase):
    """create_snapshot, create_tree_snapshot, load_snapshot."""

    def create_snapshot(self, level: str = "base", name: str | None = None) -> "ProcessSnapshot":
        """A ProcessSnapshot of the stopped process: every thread's registers,
        and per `level` ("base", "writable", "full") its maps and memory."""
        from ..snapshots.snapshot import process_snapshot
        self._ctl.ensure_stopped()
        return process_snapshot(self, level, name)

    def create_tree_snapshot(self, level: str = "base", name: str | None = None) -> "TreeSnapshot":
        """tether extra: one snapshot per process of the traced tree (this
        process and every followed descendant), diffable as a whole."""
        from ..snapshots.snapshot import tree_snapshot
        return tree_snapshot(self, level, name)

    def load_snapshot(self, path: str, max_size: int | None = None,
                      read_mapped_files: bool = False) -> Any:
        """Read a snapshot written by a snapshot's save() (see
        tether.snapshots.load_snapshot for max_size and read_mapped_files)."""
        from ..snapshots.snapshot import load_snapshot
        return load_snapshot(path, max_size, read_mapped_files)
