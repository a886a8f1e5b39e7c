"""The search files beside rag.sqlite, as a part of :class:`rag.store.Index`: loading them,
keeping them in line with SQLite in memory (``_reconcile``), saying what is wrong with them
(``problems``) and the explicit ``repair``.  Readers only ever change memory; files are written
by a writer's commit (rag.store.index) holding the write lock."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.chunking import embedding_text
from rag.store import files, health, queries
from rag.store.base import IndexState
from rag.store.contract import PassageEncoder
from rag.store.errors import IndexDamagedError
from rag.store.lock import pid_alive
from rag.store.schema import read_manifest
from rag.store.vectors import VectorStore
from rag.store.words import archive_tokenizer

log = logging.getLogger(__name__)

VECTORS, BM25_DIR = "vectors.faiss", "bm25"
SQLITE = "rag.sqlite"
INDEX_FILES = [SQLITE, SQLITE + "-wal", SQLITE + "-shm", VECTORS]  # with BM25_DIR: what an index is


class SearchFiles(IndexState):
    """FAISS vectors and BM25 of an index; needs ``path``, ``dim``, ``_conn``, ``_lock`` and the
    writer's ``_begin``/``commit_search_indexes`` from the Index it is part of.  Searches read
    the search state once per call (one generation: rag.store.sharing)."""

    def _load_files(self) -> None:
        """Load vectors.faiss and bm25/ of the manifest's generation (their staged copies while a
        commit is moving them into place: rag.store.files); a missing or unreadable one is
        recorded, not fatal: BM25 is rebuilt in memory from SQLite's tokens, vectors wait for
        :meth:`repair`."""
        self.vector_file_problem = self.bm25_problem = ""
        generation = self.manifest.get("generation", "0")
        try:
            path, self.vectors = _read_current(self.path, VECTORS, generation, lambda p: VectorStore.load(p, self.dim))
            if self.dim and not path.exists():
                self.vector_file_problem = f"{VECTORS} is missing"
        except (RuntimeError, ValueError, OSError) as exc:
            self.vectors = VectorStore(self.dim)
            self.vector_file_problem = f"{VECTORS} is unreadable ({health.first_line(exc)})"
        try:
            path, self.bm25_state = _read_current(self.path, BM25_DIR, generation, files.load_bm25)
            if not path.exists():  # every commit writes it, empty or not
                self.bm25_problem = f"{BM25_DIR}/ is missing"
        except ValueError as exc:
            self.bm25_state = (None, np.zeros(0, dtype=np.int64))
            self.bm25_problem = f"{BM25_DIR}/ is damaged ({exc})"

    def _promote(self, generation: int) -> None:
        """After the commit: the staged files moved into place.  A failure here loses nothing
        (readers read the staged files; the next writer moves them): logged, not raised."""
        try:
            for name in (VECTORS, BM25_DIR):
                files.promote(self.path, name, generation)
        except OSError as exc:
            log.warning("%s: committed; moving its files into place failed (%s): the next write does", self.path, exc)

    def _settle_files(self) -> None:
        """The writer's first step, under the lock: the committed generation's staged files moved
        into place, a failed commit's removed (rag.store.files.settle_staged), and the temporary files
        of a write that did not finish."""
        generation = queries.generation(self._conn) or "0"
        for line in files.settle_staged(self.path, [VECTORS, BM25_DIR], generation) + files.remove_leftovers(self.path):
            log.info("%s: %s", self.path, line)

    @property
    def lexical_only(self) -> bool:
        """Built without an embedding model (``rag ingest --lexical-only``): BM25 only."""
        return self.dim == 0

    def _reconcile(self, rebuild_bm25: bool = True) -> None:
        """Bring the in-memory FAISS and BM25 in line with SQLite; writes nothing.

        Vectors of chunks SQLite does not have (a crash between the file renames and the
        commit) are dropped; chunks without vectors are recorded in ``missing_vectors``
        (:meth:`repair` re-embeds them).  BM25 behind or damaged: rebuilt in memory (unless
        ``rebuild_bm25`` is False: a reader while a writer is at work keeps it as loaded).
        """
        with self._lock:
            ids = self._ids_as_loaded()
            self.missing_vectors = np.zeros(0, dtype=np.int64)
            self.stray_vectors = 0
            if not self.lexical_only and not np.array_equal(self.vectors.ids(), ids):
                stored = self.vectors.ids()
                extra = np.setdiff1d(stored, ids)
                if len(extra):
                    self._own_vectors().remove(extra)
                    self.stray_vectors = len(extra)
                    self._faiss_dirty = True
                self.missing_vectors = np.setdiff1d(ids, stored)
                if len(self.missing_vectors) and not self.vector_file_problem:
                    log.warning(
                        "%s: %d chunks have no vectors; %s",
                        self.path,
                        len(self.missing_vectors),
                        health.repair_hint(self.path),
                    )
            if rebuild_bm25 and not np.array_equal(self.bm25_ids, ids):
                self._rebuild_bm25()
                self._bm25_dirty = True  # written by the next commit

    def _ids_as_loaded(self) -> np.ndarray:
        """SQLite's chunk ids as of the generation whose files are loaded.  Outside a write, the
        ids and the generation are read in one snapshot, and a commit that landed after the
        files were loaded is loaded too: a reader never takes chunks of a newer commit for
        chunks without vectors."""
        if self._conn.in_transaction:  # a writer: its own view, files and rows in step
            return queries.all_chunk_ids(self._conn)
        for _ in range(5):
            self._conn.execute("BEGIN")
            try:
                generation, ids = queries.generation(self._conn), queries.all_chunk_ids(self._conn)
            finally:
                self._conn.execute("COMMIT")
            if generation == self.manifest.get("generation"):
                break
            self.manifest = read_manifest(self._conn)
            self._load_files()
            self.tokenizer = archive_tokenizer(self.path, self._conn, self.manifest, self.tokenizer)
        return ids

    # ---- reloading (a part of the Index, kept here for its size) ---------------------------
    def refresh(self) -> bool:
        """Reload the search files if another writer committed since (one read of the generation
        otherwise); True when it did.  The new state is built aside and published whole; a
        thread finding another one reloading, or a write open, goes on with the current state."""
        with self._read() as conn:
            generation = queries.generation(conn)
        owed = self._bm25_kept and not pid_alive(self.manifest.get("bm25_deferred_by", ""))
        if (generation == self.manifest.get("generation") and not owed) or not self._lock.acquire(blocking=False):
            return False
        try:
            if self._conn.in_transaction:
                return False
            with self._rebuilding():
                if self._catch_up(settle=True):
                    return True
                if self._bm25_kept:  # its writer ended without writing BM25: build it here
                    self._bm25_kept = False
                    self._reconcile()
                return False
        finally:
            self._lock.release()

    def _catch_up(self, settle: bool = False) -> bool:
        """Reload manifest, search files and lexicon when another writer committed since this
        one last looked (one manifest read otherwise); True when it did.

        ``settle`` (a reader, not holding the write lock): files loaded while another commit
        landed, or renamed in ahead of their commit, are loaded again; BM25 left behind by a
        running writer's deferred build (``bm25_deferred_by`` names it) is kept as loaded, not
        rebuilt in memory: that writer's last commit writes it."""
        have = read_manifest(self._conn)
        if have.get("generation") == self.manifest.get("generation"):
            return False
        for attempt in range(4 if settle else 1):
            self.manifest = have
            self._load_files()
            have = read_manifest(self._conn)
            if have.get("generation") == self.manifest.get("generation"):
                if not (settle and self._files_ahead()):
                    break
                time.sleep(0.05 * (attempt + 1))  # a commit half way: its files are in, its rows not yet
                have = read_manifest(self._conn)
        self.tokenizer = archive_tokenizer(self.path, self._conn, self.manifest, self.tokenizer, exact=settle)
        self._faiss_dirty = self._bm25_dirty = False
        self._bm25_kept = settle and pid_alive(self.manifest.get("bm25_deferred_by", ""))
        self._reconcile(rebuild_bm25=not self._bm25_kept)
        return True

    def _files_ahead(self) -> bool:
        """The loaded files hold chunks SQLite does not (yet) have."""
        ids = queries.all_chunk_ids(self._conn)
        loaded = [self.bm25_ids] + ([] if self.lexical_only else [self.vectors.ids()])
        return any(len(np.setdiff1d(have, ids, assume_unique=True)) for have in loaded)

    @property
    def vectors_damaged(self) -> bool:
        """vectors.faiss is missing or unreadable while SQLite has chunks."""
        return bool(self.vector_file_problem and len(self.missing_vectors))

    def problems(self) -> list[str]:
        """What is wrong with the files, one line each with the fix (empty when healthy)."""
        out = []
        n = len(self.missing_vectors)
        if self.vectors_damaged:
            out.append(
                f"{self.path / VECTORS}: {self.vector_file_problem.split(' ', 1)[1]}, "
                f"{n} chunks have no vectors: {health.repair_hint(self.path)} "
                f"(re-embeds them from the text in {SQLITE})"
            )
        elif n:
            out.append(
                f"{self.path / VECTORS}: {n} chunks have no vectors (an interrupted "
                f"write): {health.repair_hint(self.path)}"
            )
        if self.stray_vectors:
            out.append(
                f"{self.path / VECTORS}: holds {self.stray_vectors} vectors of chunks {SQLITE} does not have "
                f"({SQLITE} is older than its search files — a copy without {SQLITE}-wal?); left out of "
                f"searches: {health.repair_hint(self.path)} to drop them"
            )
        if self.bm25_problem:
            out.append(
                f"{self.path / BM25_DIR}: {self.bm25_problem.split(' ', 2)[2]}; rebuilt "
                f"in memory for now: {health.repair_hint(self.path)} to write it"
            )
        return out

    def verify_files(self) -> list[str]:
        """The search files checked against the checksums their commit recorded (reads them
        whole: ``rag stats`` and ``rag repair``, not every question); one line per changed file."""
        out = []
        generation = self.manifest.get("generation", "0")
        for name, key in ((VECTORS, "vectors_sha256"), (BM25_DIR, "bm25_sha256")):
            want = self.manifest.get(key)
            path = files.current(self.path, name, generation)
            if not want or not path.exists():
                continue  # not recorded (an index from before) or missing (named by problems())
            try:
                changed = files.digest_of(path) != want
            except OSError:
                changed = True
            if changed:
                out.append(
                    f"{self.path / name}: its contents changed since they were written (checksum "
                    f"differs): {health.repair_hint(self.path)} (rebuilds it from {SQLITE})"
                )
        return out

    def require_vectors(self) -> None:
        """Raise IndexDamagedError when dense search cannot work (vectors.faiss lost)."""
        if self.vectors_damaged:
            raise IndexDamagedError(self.problems()[0])

    def repair(self, embedder: PassageEncoder | None = None) -> dict[str, Any]:
        """Make the files agree with SQLite again, explicitly (``rag repair``): re-embed chunks
        without vectors (headline + chunk text, as at ingest) with ``embedder``, drop stray
        vectors, rebuild and write BM25.  Returns what was done."""
        problems = self.problems()
        with self._lock:
            self._repairing = True
            try:
                self._begin()
                check = self._conn.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise IndexDamagedError(
                        f"{self.path / SQLITE} is damaged ({check}): {health.rebuild_hint(self.path)}"
                    )
                self._load_files()
                if any(VECTORS in line for line in self.verify_files()):
                    self.vectors = VectorStore(self.dim)  # not to be trusted: every chunk re-embedded
                self._reconcile()
                missing, stray = self.missing_vectors, self.stray_vectors
                if len(missing):
                    if embedder is None:
                        raise ValueError("re-embedding needs the embedding model")
                    for i in range(0, len(missing), 512):
                        part = missing[i : i + 512]
                        texts = [embedding_text(h, t) for h, t in queries.chunk_texts(self._conn, part)]
                        vectors = files.normalized(embedder.embed_documents(texts), len(part), self.dim)
                        self._own_vectors().add(vectors, part)
                self._faiss_dirty = not self.lexical_only
                self._bm25_dirty = True
                self.commit_search_indexes()
            finally:
                self._repairing = False
            with self._rebuilding():  # read back what was written: problems() now tells the truth
                self._load_files()
                self._reconcile()
        return {
            "reembedded": len(missing),
            "stray_vectors_removed": int(stray),
            "bm25_docs": len(self.bm25_ids),
            "problems_found": len(problems),
            "done": f"re-embedded {len(missing)} chunks, removed {int(stray)} stray vectors, "
            f"BM25 rebuilt over {len(self.bm25_ids)} chunks",
        }

    def _rebuild_bm25(self, write_to=None) -> None:
        """BM25 over SQLite's stored tokens, in memory and (``write_to``, a folder) on disk."""
        seen: list[int] = []

        def tokens():  # streamed from SQLite: the archive's tokens are never all in memory
            for chunk_id, text in self._conn.execute("SELECT id, tokens FROM chunks ORDER BY id"):
                seen.append(chunk_id)
                yield text.split()

        bm25 = files.build_bm25(tokens())
        ids = np.array(seen, dtype=np.int64)
        if write_to is not None:
            files.write_bm25(write_to, bm25, ids)
        self.bm25_state = (bm25, ids)

    @property
    def bm25(self):
        """The bm25s index (None when empty); see ``bm25_state`` for a consistent pair."""
        return self.bm25_state[0]

    @property
    def bm25_ids(self) -> np.ndarray:
        """Chunk ids in bm25 document order (sorted)."""
        return self.bm25_state[1]

    # ---- search (the rag.store.contract methods) -------------------------------------------
    def vector_search(
        self, query: np.ndarray, depth: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        return self.vectors.search(query, depth, allowed)

    def vector_scores(self, query: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        q = query.reshape(-1)
        vectors = self.vectors  # one generation for all of them
        out: dict[int, float] = {}
        for cid in ids:
            vec = vectors.reconstruct(int(cid))
            if vec is not None:
                out[int(cid)] = float(vec @ q)
        return out

    def query_tokens(self, query: str, bm25=None, tokenizer=None) -> list[str]:
        state = self._state_here()  # BM25 and tokenizer of one generation
        bm25 = bm25 or state.bm25_state[0]
        if bm25 is None:
            return []
        return [t for t in dict.fromkeys((tokenizer or state.tokenizer)(query)) if t in bm25.vocab_dict]

    def _bm25_scores(self, query: str, allowed: np.ndarray | None = None) -> tuple[np.ndarray | None, np.ndarray]:
        """``(scores, chunk ids)``: the BM25 score of every indexed chunk, aligned with the ids;
        chunks outside ``allowed`` score 0.  Scores are None when no query token is known."""
        state = self._state_here()  # one consistent snapshot
        bm25, ids = state.bm25_state
        tokens = self.query_tokens(query, bm25, state.tokenizer)
        if not tokens:
            return None, ids
        mask = None if allowed is None else np.isin(ids, allowed).astype(np.float32)
        return bm25.get_scores(tokens, weight_mask=mask), ids

    def lexical_search(self, query: str, depth: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        if depth <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        scores, ids = self._bm25_scores(query, allowed)
        if scores is None:
            return []
        positive = np.flatnonzero(scores > 0)
        if len(positive) > depth:
            positive = positive[np.argpartition(-scores[positive], depth - 1)[:depth]]
        order = positive[np.lexsort((positive, -scores[positive]))]  # score desc, then position
        return [(int(ids[i]), float(scores[i])) for i in order]

    def lexical_scores(self, query: str, ids: Sequence[int]) -> dict[int, float]:
        scores, known = self._bm25_scores(query)
        out: dict[int, float] = {}
        for cid in ids:
            pos = int(np.searchsorted(known, cid))
            if pos < len(known) and known[pos] == cid:
                out[int(cid)] = 0.0 if scores is None else float(scores[pos])
        return out


def _read_current(folder, name: str, generation: str, read):
    """``(path, read(path))`` of the file readers of ``generation`` read; read again when a
    staged copy was moved into place between the look and the read (it is then under ``name``)."""
    for attempt in range(3):
        path = files.current(folder, name, generation)
        try:
            got = read(path)
        except (RuntimeError, ValueError, OSError):
            if path.name == name or path.exists() or attempt == 2:
                raise
            continue
        if path.name == name or path.exists() or attempt == 2:
            return path, got
    raise AssertionError("unreachable")
