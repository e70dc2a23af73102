"""The file store: document content on disk, named by random keys; the database keeps metadata only.

Keeping content out of the database means that a purge really removes it: the file is overwritten
and unlinked, and no database page or dead row keeps a copy.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

_KEY_ALPHABET = set("0123456789abcdef")


class FileStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if len(key) != 32 or not set(key) <= _KEY_ALPHABET:
            raise ValueError(f"not a file-store key: {key!r}")
        return self.root / key[:2] / key

    def put(self, content: bytes) -> str:
        """Store `content` durably under a new key (written to a temporary name, then renamed)."""
        key = secrets.token_hex(16)
        path = self._path(key)
        path.parent.mkdir(exist_ok=True)
        temporary = path.with_suffix(".part")
        with open(temporary, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        return key

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def open(self, key: str) -> BinaryIO:
        """The content as a stream (a backup copies it without holding it in memory)."""
        return open(self._path(key), "rb")

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A scratch folder on the store's own file system, removed at the end; `keys` and `sweep` never
        look into it (its name is not two characters long)."""
        with tempfile.TemporaryDirectory(prefix=".staging-", dir=self.root) as folder:
            yield Path(folder)

    def place(self, key: str, source: Path) -> None:
        """Move a file of `staging()` into the store under `key` (a restore puts content back under the
        key its document names), replacing what is there; synced first, so that it is whole once named."""
        path = self._path(key)
        path.parent.mkdir(exist_ok=True)
        with open(source, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(source, path)

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def purge(self, key: str) -> None:
        """Overwrite the content with zeros, then remove it; a missing file is already purged."""
        path = self._path(key)
        try:
            size = path.stat().st_size
            with open(path, "r+b") as handle:
                handle.write(b"\0" * size)
                handle.flush()
                os.fsync(handle.fileno())
            path.unlink()
        except FileNotFoundError:
            pass

    def keys(self) -> Iterable[str]:
        for path in self.root.glob("??/*"):
            if path.suffix != ".part" and len(path.name) == 32:
                yield path.name

    def sweep(self, live_keys: set[str], *, older_than_seconds: float = 3600) -> list[str]:
        """Purge stored files no live document refers to (left by a crash between commit and purge).

        Young files are spared: another instance may be between writing one and committing its row.
        """
        cutoff = time.time() - older_than_seconds
        orphans = [key for key in self.keys()
                   if key not in live_keys and self._path(key).stat().st_mtime < cutoff]
        for key in orphans:
            self.purge(key)
        return orphans
