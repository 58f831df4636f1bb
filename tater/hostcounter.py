"""A counter shared by every process on one host, in a memory-mapped file."""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Mapping
from typing import Any


class SharedGeneration:
    """One 8-byte counter in a memory-mapped file shared by every process on the host that
    opens the same path: bumped under a file lock, read with an unpack from shared memory
    (no system call). ``apikeys.keycheck`` keeps its host-wide key generation in one."""

    _unpack = struct.Struct("<Q").unpack_from

    def __init__(self, path: str) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(fd).st_size < 8:
            os.ftruncate(fd, 8)
        self.fd = fd
        self.map = mmap.mmap(fd, 8, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)

    @classmethod
    def beside_sqlite_file(cls, database: Mapping[str, Any], suffix: str) -> SharedGeneration | None:
        """The counter in a file beside the SQLite database file ``database`` (a Django
        ``DATABASES`` entry) names, shared by the processes using that database; None for
        another engine, an in-memory database, or a file that cannot be opened."""
        name = str(database.get("NAME") or "")
        on_disk = name and ":memory:" not in name and "mode=memory" not in name
        if not str(database.get("ENGINE", "")).endswith("sqlite3") or not on_disk:
            return None
        try:
            return cls(name + suffix)
        except OSError:
            return None

    def read(self) -> int:
        return int(self._unpack(self.map, 0)[0])

    def bump(self) -> None:
        import fcntl

        fcntl.lockf(self.fd, fcntl.LOCK_EX)
        try:
            struct.pack_into("<Q", self.map, 0, (self.read() + 1) % (1 << 64))
        finally:
            fcntl.lockf(self.fd, fcntl.LOCK_UN)
