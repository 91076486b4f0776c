"""Files tether writes and reads, attacked (issue 18): symlinks planted where
save() writes, snapshots naming /dev/zero, a FIFO or a symlink to a secret,
a gzip bomb, and the ELF reader on files that are not ELF or are huge.
No process is traced here (tests/e2e/test_hostile_binaries.py traces)."""
import base64
import errno
import gzip
import json
import os
import stat
import struct
import zlib

import pytest

from tether import safe_files
from tether.arch.amd64.registers import GPR_SIZE
from tether.safe_files import UnsafeFileError, atomic_write, open_regular, read_whole
from tether.snapshots.memory import SnapshotMap
from tether.snapshots.serialize import MAX_SIZE, parse_snapshot
from tether.snapshots.snapshot import ProcessImage, ProcessSnapshot, load_snapshot
from tether.symbols import elf as elfmod
from tether.symbols.elf import ElfError, ElfFile
from tether.symbols.symbol_list import build_symbols
from tether.symbols.unwinder import modules_of

PAGE = 4096
LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"


def snapshot_naming(paths, level="writable"):
    """A process snapshot whose maps name `paths` as their files (a stack
    with a frame-pointer chain, so a backtrace has work to do)."""
    maps, start = [], 0x400000
    for path in paths:
        maps.append(SnapshotMap(start, start + PAGE, "r-xp", PAGE, 0, path, -1, None))
        start += 0x10000
    stack = bytearray(PAGE)
    struct.pack_into("<QQ", stack, 0x100, 0, 0x400123)  # saved rbp, return address
    maps.append(SnapshotMap(0x7ff000, 0x800000, "rw-p", PAGE, 0, "[stack]", -1, bytes(stack)))
    regs = bytearray(GPR_SIZE)
    struct.pack_into("<Q", regs, 8 * 4, 0x7ff000 + 0x100)   # rbp
    struct.pack_into("<Q", regs, 8 * 16, 0x400010)          # rip
    struct.pack_into("<Q", regs, 8 * 19, 0x7ff000 + 0x80)   # rsp
    return ProcessSnapshot(ProcessImage(100, level, maps, {}, paths[0] if paths else None),
                           [(100, bytes(regs), b"")], 0)


@pytest.fixture
def opened(monkeypatch):
    """The paths os.open and open() are given from now on (every file
    opening in tether goes through one of them)."""
    seen = []
    real_os_open, real_open = os.open, open

    def os_open(path, *args, **kwargs):
        seen.append(os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else path)
        return real_os_open(path, *args, **kwargs)

    def builtin_open(path, *args, **kwargs):
        seen.append(os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else path)
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr("builtins.open", builtin_open)
    return seen


# --- save(): never through a planted symlink -----------------------------------------------

def test_save_never_writes_through_a_symlink_planted_at_any_name_it_could_use(tmp_path, opened):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    target = tmp_path / "snap.json"
    # The names a predictable writer would use: the target itself, and
    # "<target>.tmp<pid>" (what save() used before) and its neighbours.
    planted = [target] + [tmp_path / f"snap.json.tmp{os.getpid() + k}" for k in range(-3, 4)] + \
        [tmp_path / f".snap.json.{k}.tmp" for k in ("tmp", "0", "XXXXXXXX")]
    for name in planted:
        name.symlink_to(victim)
    snap = snapshot_naming(["/nonexistent/prog"])
    for _ in range(3):
        snap.save(target)
    # The only files save() opened in that directory were new ones it created
    # itself (O_CREAT | O_EXCL, so a name planted there makes it pick another),
    # besides the directory itself (to fsync the rename).
    writes = [p for p in opened if isinstance(p, str) and p.startswith(str(tmp_path) + "/")]
    assert len(writes) == 3 and all(os.path.basename(p).startswith(".snap.json.") for p in writes)
    assert len(set(writes)) == len(writes)  # a new unguessable name each time
    assert victim.read_text() == "precious"
    assert not target.is_symlink() and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert load_snapshot(target).pid == 100
    # Every other name in the directory is one we planted: nothing left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({p.name for p in planted} | {"victim"})


def test_the_temporary_file_is_created_exclusively(tmp_path, monkeypatch):
    flags_seen = []
    real_open = os.open

    def recording_open(path, flags, *args, **kwargs):
        flags_seen.append(flags)
        return real_open(path, flags, *args, **kwargs)
    monkeypatch.setattr(os, "open", recording_open)
    with atomic_write(tmp_path / "f") as out:
        out.write(b"data")
    creating = [f for f in flags_seen if f & os.O_CREAT]
    assert creating and all(f & os.O_EXCL and f & os.O_NOFOLLOW for f in creating)
    assert (tmp_path / "f").read_bytes() == b"data"


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "f"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as out:
            out.write(b"half")
            raise RuntimeError("disk on fire")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["f"]
    with pytest.raises(TypeError):
        snapshot_naming([]).save(tmp_path / "g", compress="yes")
    assert os.listdir(tmp_path) == ["f"]


# --- loading a hostile snapshot reads nothing it names ---------------------------------------

@pytest.fixture
def hostile_names(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    secret = tmp_path / "shadow-link"
    secret.symlink_to("/etc/shadow")
    return ["/dev/zero", str(fifo), str(secret), "/proc/self/mem", "/dev/stdin"]


def test_a_loaded_snapshot_never_opens_the_files_its_maps_name(tmp_path, hostile_names, opened):
    path = tmp_path / "hostile.json.gz"
    snapshot_naming(hostile_names).save(path)
    del opened[:]
    snap = load_snapshot(path)
    assert len(snap.symbols) == 0
    assert snap.backtrace() == [0x400010, 0x400123]   # the frame-pointer chain, no unwind tables
    assert snap.memory[0x7ff100, 8, "absolute"] == bytes(8)
    with pytest.raises(ValueError, match="read_mapped_files=True"):
        snap.resolve_symbol("main")
    with pytest.raises(ValueError, match="read_mapped_files=True"):
        snap.memory["main", 4]
    snap.pprint_maps()
    assert opened == [str(path)]  # the snapshot file itself, nothing else


def test_read_mapped_files_opens_regular_elf_files_only(tmp_path, hostile_names):
    path = tmp_path / "hostile.json"
    snapshot_naming(hostile_names + [LIBC]).save(path)
    snap = load_snapshot(path, read_mapped_files=True)
    # /dev/zero, the FIFO, /proc/self/mem and stdin are refused without a read
    # (nothing hangs, nothing fills memory); /etc/shadow is not ELF (64 bytes read).
    assert {s.backing_file for s in snap.symbols} == {LIBC}
    assert [os.path.basename(e.path) for _, e in snap.image.unwind_modules()] == ["libc.so.6"]


def test_the_snapshot_file_itself_must_be_a_regular_file(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path, kind in [("/dev/zero", "character device"), (fifo, "FIFO"), (tmp_path, "directory")]:
        with pytest.raises(UnsafeFileError, match=kind):
            load_snapshot(path)
    with pytest.raises(FileNotFoundError):
        load_snapshot(tmp_path / "missing")


def _gzip_bomb(inflated: int) -> bytes:
    """A gzip file inflating to `inflated` zero bytes: one member of 8 MiB
    of zeros (about 8 KiB), repeated (several members make one gzip file)."""
    member = gzip.compress(bytes(8 << 20), compresslevel=9)
    return member * (inflated // (8 << 20))


def test_a_gzip_bomb_is_refused_before_it_inflates(tmp_path):
    bomb = _gzip_bomb(1 << 30)
    assert len(bomb) < (2 << 20)          # under 2 MB on disk, 1 GiB inflated
    (tmp_path / "bomb.json.gz").write_bytes(bomb)
    with pytest.raises(ValueError, match=f"inflates to more than {MAX_SIZE} bytes.*max_size"):
        load_snapshot(tmp_path / "bomb.json.gz")
    with pytest.raises(ValueError, match="inflates to more than 1048576 bytes"):
        parse_snapshot(bomb, max_size=1 << 20)


def test_size_limits_and_gzip_framing(tmp_path):
    snap = snapshot_naming(["/x"])
    snap.save(tmp_path / "s.json")
    size = (tmp_path / "s.json").stat().st_size
    with pytest.raises(UnsafeFileError, match=f"{size} bytes, more than the limit of 100"):
        load_snapshot(tmp_path / "s.json", max_size=100)
    assert load_snapshot(tmp_path / "s.json", max_size=size).pid == 100
    packed = gzip.compress((tmp_path / "s.json").read_bytes())
    assert parse_snapshot(packed).pid == 100
    assert parse_snapshot(packed[:10] + packed[10:]).pid == 100
    with pytest.raises(ValueError, match="truncated"):
        parse_snapshot(packed[:-12])
    with pytest.raises(ValueError, match="data follows the gzip stream"):
        parse_snapshot(packed + b"junk")
    for bad in (0, -1, 1.5, "1", None):
        with pytest.raises(TypeError, match="max_size"):
            parse_snapshot(packed, max_size=bad)
    with pytest.raises(TypeError, match="read_mapped_files"):
        load_snapshot(tmp_path / "s.json", read_mapped_files="yes")


# --- safe_files ------------------------------------------------------------------------------

def test_open_regular_and_read_whole(tmp_path):
    f = tmp_path / "f"
    f.write_bytes(b"abc")
    assert read_whole(f, 3) == b"abc"
    with pytest.raises(UnsafeFileError, match="more than the limit of 2"):
        read_whole(f, 2)
    link = tmp_path / "link"
    link.symlink_to(f)
    fd, _ = open_regular(link)
    os.close(fd)
    with pytest.raises(UnsafeFileError, match="symlink"):
        open_regular(link, follow_symlinks=False)
    fd = os.open(f, os.O_RDONLY)
    try:
        assert safe_files.read_at(fd, 1, 1 << 60, 3) == b"bc"  # a huge size allocates nothing
    finally:
        os.close(fd)
    assert safe_files.read_at(-1, 5, 10, 3) == b""  # past the end: no read at all


# --- the ELF reader on non-ELF and oversized files --------------------------------------------

def test_a_huge_non_elf_file_costs_one_small_read(tmp_path, monkeypatch):
    big = tmp_path / "data.bin"
    with open(big, "wb") as f:
        f.truncate(1 << 30)  # 1 GiB, sparse
    reads = []
    real_pread = os.pread
    monkeypatch.setattr(os, "pread", lambda fd, n, off: reads.append(n) or real_pread(fd, n, off))
    with pytest.raises(ElfError, match="not an ELF file"):
        ElfFile(big)
    assert sum(reads) <= 64


def test_a_huge_elf_file_is_read_only_where_its_tables_are(tmp_path, monkeypatch):
    big = tmp_path / "libc-padded.so"
    big.write_bytes(open(LIBC, "rb").read())
    with open(big, "r+b") as f:
        f.truncate(1 << 30)  # 1 GiB: libc followed by a hole
    reads = []
    real_pread = os.pread
    monkeypatch.setattr(os, "pread", lambda fd, n, off: reads.append(n) or real_pread(fd, n, off))
    e = ElfFile(big)
    names = {s.name for s in e.symbols()}
    assert "malloc" in names and e.eh_frame and e.build_id
    assert sum(reads) < os.path.getsize(LIBC)


def test_no_file_is_read_past_max_read(tmp_path, monkeypatch):
    elfmod.clear_cache()
    try:
        monkeypatch.setattr(elfmod, "MAX_READ", 64 << 10)
        e = ElfFile(LIBC)            # the headers fit; the symbol and unwind tables do not
        assert e.symbols() == [] and e.eh_frame is None
        elfmod.clear_cache()
        monkeypatch.setattr(elfmod, "MAX_READ", 1024)
        with pytest.raises(ElfError, match="needs more than 1024 bytes"):
            ElfFile(LIBC)
    finally:
        elfmod.clear_cache()


def test_a_file_replaced_while_being_read_is_noticed(tmp_path):
    copy = tmp_path / "lib.so"
    copy.write_bytes(open(LIBC, "rb").read())
    e = ElfFile(copy)
    data = bytearray(copy.read_bytes())
    os.unlink(copy)
    copy.write_bytes(bytes(data))  # a new inode at the same path
    try:
        assert e.symbols() == []  # read from the new file, they could be anything
    finally:
        elfmod.clear_cache()


def test_symbol_and_unwind_loading_skip_devices_fifos_and_secrets(tmp_path, hostile_names):
    maps = snapshot_naming(hostile_names).maps
    assert build_symbols(maps) == [] and modules_of(maps) == []
    # (Not /dev/stdin: when it is a pipe, its /proc/self/fd link names no file: an OSError.)
    for name in hostile_names[:4]:
        with pytest.raises(ValueError):
            ElfFile(name)
    with pytest.raises(OSError) as info:
        ElfFile(tmp_path / "missing")
    assert info.value.errno == errno.ENOENT
