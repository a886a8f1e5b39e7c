"""The FAISS side of an index, keyed by chunk id: exact while small, IVF beyond ``IVF_MIN``.

* ``flat``: ``IndexIDMap2(IndexFlatIP)`` - exact; a query scans every vector, so its cost grows
  with the archive (bench/vector_index.py: ~0.9 ms per 10,000 vectors on this 2-core box).
* ``ivf``: ``IndexIVFFlat`` (inner product, ``nlist`` ~ 4·sqrt(n), ids stored in the lists,
  a hash-table direct map for reconstruct/remove) - scans an eighth of its lists (256 at least); recall@10 against
  flat is measured by bench/vector_index.py on real embeddings.  Retrained when the archive
  has grown fourfold since training.
* ``none``: a lexical-only index (``dim`` 0): no vectors at all.

Flat files are loaded memory-mapped (a served index costs page cache, not heap; the first write
reloads them into memory, since FAISS cannot modify a mapped index); IVF files are read into
memory, because their mapped lists searched twice as slowly.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np

from rag.store.files import STAGED, fsync_path, release_memory

# bench/vector_index.py on 78,384 real e5 vectors, 300 crud_dev queries, this 2-core box:
# flat p50 0.74 / 1.79 / 3.54 / 6.72 ms at 10k / 25k / 50k / 78k vectors (17.9 ms at 160k);
# IVF (1,119 lists) recall@10 against flat .863 / .912 / .950 / .983 probing 32 / 64 / 128 /
# 256 lists, 0.3 / 0.5 / 0.9 / 1.6 ms.  Flat stays until it costs ~4 ms of the 30 ms budget;
# beyond, IVF probing an eighth of its lists (>= 256) keeps recall@10 ≥ .98 (.992 at 249k real vectors).
IVF_MIN = 50_000
IVF_PROBE_SHARE = 8  # probe 1/8 of the lists (at least IVF_MIN_PROBES)
IVF_MIN_PROBES = 256
EXACT_SUBSET = 20_000  # a filter leaving this few ids is scored exactly, even over IVF


def search_threads(n: int) -> None:
    """The OpenMP threads FAISS uses inside one call, for the whole process.  A server asking
    one vector per question from many threads at once wants 1: a team of threads gains nothing
    on one vector and waits at its barrier for a core the other questions are using (hybrid
    ask p50 on seeds 18–20 ms with 2, 11 ms with 1, while another job shared the two cores)."""
    faiss.omp_set_num_threads(max(1, n))


TRAIN_PER_LIST = 64  # k-means points per list (faiss warns under 39, samples down to 256)
MOVE_BATCH = 20_000


def nlist_for(n: int) -> int:
    """Lists for ``n`` vectors: ~4·sqrt(n), with at least 39 training points per list."""
    return max(1, min(int(4 * math.sqrt(n)), n // 39))


def nprobe_for(nlist: int) -> int:
    """Lists a search probes: an eighth of them, at least ``IVF_MIN_PROBES`` (bench/vector_index.py:
    recall@10 vs flat .983 at 78k e5 vectors probing 256 of 1,119 lists, .992 at 249k probing 256
    of 1,996, in 8.4 ms against 15.8 ms for a quarter)."""
    return max(1, min(nlist, max(IVF_MIN_PROBES, nlist // IVF_PROBE_SHARE)))


class VectorStore:
    """Normalised float32 vectors under int64 chunk ids, searched by inner product."""

    def __init__(
        self,
        dim: int,
        index: faiss.Index | None = None,
        path: Path | None = None,
        mapped: bool = False,
        ivf_min: int | None = None,
    ) -> None:
        self.dim = int(dim)
        self._ivf_min = ivf_min
        self._path, self._mapped = path, mapped
        if index is None and self.dim > 0:
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        self._index = index
        self._sorted_ids: np.ndarray | None = None

    # ---- files ---------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path, dim: int, mmap: bool = True, ivf_min: int | None = None) -> VectorStore:
        """The vectors in ``path`` (empty when it was never written)."""
        if dim <= 0 or not path.exists():
            return cls(dim, ivf_min=ivf_min)
        # flat codes are memory-mapped (searched as fast as in memory); IVF lists are read in:
        # mapped, they searched 2x slower (3.3-4.0 vs 1.85 ms at 78k vectors, 279 of 1,119 lists)
        flags = faiss.IO_FLAG_MMAP_IFC if mmap and not _is_ivf_file(path) else 0
        index = faiss.read_index(str(path), flags)
        if index.d != dim:
            raise ValueError(f"{path} holds {index.d}-d vectors, the manifest says {dim}")
        if isinstance(index, faiss.IndexIVF):
            index.nprobe = nprobe_for(index.nlist)  # a search setting, not part of the data
        return cls(dim, index, path, mapped=bool(flags), ivf_min=ivf_min)

    def write(self, path: Path) -> None:
        """Write to a temporary name, flush, then rename over ``path``."""
        if self._index is None:
            path.unlink(missing_ok=True)
            return
        tmp = path.with_name(path.name + ".tmp")
        faiss.write_index(self._index, str(tmp))
        fsync_path(tmp)
        os.replace(tmp, path)
        fsync_path(path.parent)

    def copy(self) -> VectorStore:
        """A private copy to change while searches of this one go on (FAISS is not safe to
        change while another thread searches it)."""
        if self._index is None:
            return VectorStore(self.dim, ivf_min=self._ivf_min)
        index = self._read_back() if self._mapped else faiss.clone_index(self._index)
        twin = VectorStore(self.dim, index, self._path, mapped=False, ivf_min=self._ivf_min)
        twin._sorted_ids = self._sorted_ids
        return twin

    def _read_back(self) -> faiss.Index:
        """The mapped file read into memory, with this index's search setting (a staged file
        moved into place since it was mapped is read under the name it was moved to)."""
        path = self._path
        staged = STAGED.match(path.name)
        if staged and not path.exists():
            path = path.with_name(staged["name"])
        index = faiss.read_index(str(path))
        nprobe = getattr(self._index, "nprobe", None)
        if nprobe is not None:
            index.nprobe = nprobe
        return index

    def _writable(self) -> faiss.Index:
        self._sorted_ids = None  # about to change
        if self._mapped:  # FAISS cannot change a memory-mapped index: take a private copy
            self._index, self._mapped = self._read_back(), False
        return self._index

    # ---- shape ---------------------------------------------------------------------------
    @property
    def ivf_min(self) -> int:
        return IVF_MIN if self._ivf_min is None else self._ivf_min

    @property
    def kind(self) -> str:
        if self._index is None:
            return "none"
        return "ivf" if isinstance(self._index, faiss.IndexIVF) else "flat"

    @property
    def ntotal(self) -> int:
        return 0 if self._index is None else int(self._index.ntotal)

    @property
    def mapped(self) -> bool:
        return self._mapped

    def ids(self) -> np.ndarray:
        """Every stored chunk id, sorted (kept until the next change: filtered searches over an
        IVF and every index refresh ask for it)."""
        if self._sorted_ids is None:
            self._sorted_ids = np.sort(self._stored_ids())
        return self._sorted_ids

    def _stored_ids(self) -> np.ndarray:
        index = self._index
        if index is None or index.ntotal == 0:
            return np.zeros(0, dtype=np.int64)
        if self.kind == "flat":
            return faiss.vector_to_array(index.id_map).astype(np.int64)
        lists = index.invlists
        parts = [
            faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
            for i in range(index.nlist)
            if lists.list_size(i)
        ]
        return np.concatenate(parts).astype(np.int64)

    # ---- changes -------------------------------------------------------------------------
    def add(self, vectors: np.ndarray, ids: Sequence[int] | np.ndarray) -> None:
        if self._index is None:
            raise ValueError("this index is lexical-only: it stores no vectors")
        self._writable().add_with_ids(vectors, np.asarray(ids, dtype=np.int64))

    def remove(self, ids: Sequence[int] | np.ndarray) -> None:
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if self._index is not None and len(ids):
            index = self._writable()
            # an IVF's hash-table direct map only accepts an explicit id array
            sel = (
                faiss.IDSelectorArray(len(ids), faiss.swig_ptr(ids))
                if self.kind == "ivf"
                else faiss.IDSelectorBatch(ids)
            )
            index.remove_ids(sel)

    def reorganize_needed(self) -> bool:
        """True when :meth:`reorganize` would change the structure."""
        n, kind = self.ntotal, self.kind
        return (
            (kind == "ivf" and n < self.ivf_min // 2)
            or (kind == "flat" and n >= self.ivf_min)
            or (kind == "ivf" and self._index.nlist * 2 <= nlist_for(n))
        )

    def reorganize(self) -> bool:
        """Switch flat → IVF at ``ivf_min`` vectors (IVF → flat below half of it); retrain an IVF
        the archive has outgrown fourfold.  True when the structure changed."""
        if not self.reorganize_needed():
            return False
        n = self.ntotal
        if self.kind == "ivf" and n < self.ivf_min // 2:
            target = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        else:
            target = self._empty_ivf(n)
        ids = self.ids()
        if isinstance(target, faiss.IndexIVF):  # k-means on a sample: ~2x the memory of one copy less
            rng = np.random.default_rng(0)
            sample = np.sort(rng.choice(ids, min(len(ids), TRAIN_PER_LIST * target.nlist), replace=False))
            target.train(self.vectors_of(sample))
            del sample
        for start in range(0, len(ids), MOVE_BATCH):  # moved in batches, never a second full copy
            part = ids[start : start + MOVE_BATCH]
            target.add_with_ids(self.vectors_of(part), part)
        self._index, self._mapped, self._sorted_ids = target, False, None
        release_memory()
        return True

    def _empty_ivf(self, n: int) -> faiss.IndexIVFFlat:
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf = faiss.IndexIVFFlat(quantizer, self.dim, nlist_for(n), faiss.METRIC_INNER_PRODUCT)
        quantizer.this.disown()  # the IVF owns its quantizer
        ivf.own_fields = True
        ivf.nprobe = nprobe_for(ivf.nlist)
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct and remove by id
        return ivf

    # ---- reading -------------------------------------------------------------------------
    def vectors_of(self, ids: np.ndarray) -> np.ndarray:
        """(len(ids), dim) stored vectors; every id must be present."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._index.reconstruct_batch(ids)

    def reconstruct(self, chunk_id: int) -> np.ndarray | None:
        """The stored vector of one chunk, or None."""
        if self._index is None:
            return None
        try:
            return self._index.reconstruct(int(chunk_id))
        except RuntimeError:  # not stored
            return None

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Up to ``k`` ``(chunk id, inner product)`` pairs, best first, among ``allowed`` ids."""
        if self._index is None or k <= 0 or self.ntotal == 0:
            return []
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        params = None
        if allowed is not None:
            if self.kind == "ivf" and len(allowed) <= EXACT_SUBSET:
                return self._exact(query[0], k, allowed)
            sel = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            params = (
                faiss.SearchParametersIVF(sel=sel, nprobe=min(self._index.nlist, 2 * self._index.nprobe))
                if self.kind == "ivf"
                else faiss.SearchParameters(sel=sel)
            )
        scores, ids = self._index.search(query, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def _exact(self, query: np.ndarray, k: int, allowed: np.ndarray) -> list[tuple[int, float]]:
        have = np.intersect1d(np.asarray(allowed, dtype=np.int64), self.ids(), assume_unique=True)
        if len(have) == 0:
            return []
        scores = self.vectors_of(have) @ query
        top = np.argsort(-scores, kind="stable")[:k]
        return [(int(have[i]), float(scores[i])) for i in top]


def _is_ivf_file(path: Path) -> bool:
    """IVF files start with an "IwF?" fourcc (flat ones with "IxM2"/"IxF?")."""
    with path.open("rb") as fh:
        return fh.read(4).startswith(b"Iw")
