"""Gallery index held in PostgreSQL + pgvector, for galleries past one machine's memory.

Same answers as the FAISS `GalleryIndex` (facebank.index.protocol.VectorIndex): distinct
people per query, best first, each scored by the exact cosine of their best face. The
engine only picks candidates: rows come back with their vectors and are re-scored here in
float32, as FAISS scores them, so scores agree to ~1e-6. Below `ann_threshold` faces the
table has no HNSW index and every search is an exact scan; from then on an HNSW index
(vector_ip_ops: vectors are unit length, so inner product = cosine) picks the candidates,
and only which faces become candidates is approximate (docs/index.md has the recall).

The table is derived data like the FAISS index: the SQL database of facebank stays the
source of truth and the services compare `checksum()` with it. Every write is one
transaction, so a failed write leaves the table as it was.

Connections come from a pool (each search or write borrows one for its transaction), so
concurrent searches do not queue behind one connection, and a connection the engine dropped
is replaced instead of failing every later call. An engine that cannot be reached (refused,
dropped, no connection within `timeout_s`) raises VectorEngineUnavailableError.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager

import numpy as np
import psycopg
from numpy.typing import ArrayLike, NDArray
from pgvector import Vector
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg_pool import ConnectionPool

from facebank.errors import VectorEngineUnavailableError
from facebank.index import _validate
from facebank.index.checksum import ids_checksum
from facebank.index.gallery_index import FACES_PER_PERSON, MIN_FACES, WIDEN_FACTOR
from facebank.index.people import PersonHit, best_per_person

# Below this many faces an exact scan is fast enough (10k faces: a few ms) and the HNSW
# index's slow inserts are not worth paying; from it on the HNSW index is built.
ANN_THRESHOLD = 20_000
# Candidates HNSW visits per search (pgvector's hnsw.ef_search); raised to k when a wider
# search asks for more. 1000 is pgvector's maximum: beyond it the search is exact.
EF_SEARCH = 128
EF_SEARCH_MAX = 1000
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
# Connections kept to the engine; searches past this many at once wait for one.
POOL_SIZE = 8
# How long a call waits for a connection before the engine counts as unreachable.
TIMEOUT_S = 5.0
# After the engine answered "unavailable", how soon a client is told to try again.
RETRY_AFTER_S = 5

_Batch = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float32]]


def table_name(model_id: str, dim: int) -> str:
    """One table per model pack and size, named from both within PostgreSQL's 63 bytes."""
    slug = re.sub(r"[^a-z0-9]+", "_", model_id.lower()).strip("_")[:32]
    digest = hashlib.sha256(f"{model_id}/{dim}".encode()).hexdigest()[:8]
    return f"facebank_vectors_{slug}_{dim}_{digest}"


class PgVectorIndex:
    def __init__(
        self, url: str, dim: int, model_id: str, *, table: str | None = None,
        ann_threshold: int = ANN_THRESHOLD, ef_search: int = EF_SEARCH,
        pool_size: int = POOL_SIZE, timeout_s: float = TIMEOUT_S,
    ) -> None:  # fmt: skip
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        if not 1 <= ef_search <= EF_SEARCH_MAX:
            raise ValueError(f"ef_search must be in 1..{EF_SEARCH_MAX}, got {ef_search}")
        self._dim = dim
        self._model_id = model_id
        self._ann_threshold = ann_threshold
        self._ef_search = ef_search
        name = table or table_name(model_id, dim)
        self._table = sql.Identifier(name)
        self._hnsw_name = f"{name[:56]}_hnsw"
        self._hnsw = sql.Identifier(self._hnsw_name)
        self._timeout_s = timeout_s
        with (
            _unavailable_as_error(),
            psycopg.connect(
                url, autocommit=True, connect_timeout=_connect_timeout(timeout_s)
            ) as conn,
        ):
            self._create_table(conn, name)
        # Opened after the table: each new connection registers the vector type, which
        # the extension created above defines.
        self._pool = ConnectionPool(
            url, min_size=1, max_size=pool_size, open=False, timeout=timeout_s,
            kwargs={"autocommit": True, "connect_timeout": _connect_timeout(timeout_s)},
            configure=register_vector, check=ConnectionPool.check_connection,
            name="facebank-vectors", reconnect_timeout=timeout_s,
        )  # fmt: skip
        with _unavailable_as_error():
            self._pool.open(wait=True, timeout=timeout_s)

    def _create_table(self, conn: psycopg.Connection[tuple[object, ...]], name: str) -> None:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (face_id bigint PRIMARY KEY, "
                "person_id bigint NOT NULL, embedding vector({}) NOT NULL)"
            ).format(self._table, sql.Literal(self._dim))
        )
        # Inline, not TOASTed (a 512-d vector is 2 KB, past TOAST's threshold): an exact scan
        # then reads pages instead of detoasting every row, several times faster.
        conn.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN embedding SET STORAGE PLAIN").format(self._table)
        )
        conn.execute(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (person_id)").format(
                sql.Identifier(f"{name[:54]}_person"), self._table
            )
        )

    def close(self) -> None:
        self._pool.close()

    # ---- properties -------------------------------------------------------------

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def kind(self) -> str:
        """ "flat" (exact scan) or "hnsw" (candidates from pgvector's HNSW, re-scored)."""
        with self._transaction() as cur:
            return "hnsw" if self._has_hnsw(cur) else "flat"

    @property
    def size(self) -> int:
        return self._scalar("SELECT count(*) FROM {}")

    @property
    def person_count(self) -> int:
        return self._scalar("SELECT count(DISTINCT person_id) FROM {}")

    def face_ids(self) -> NDArray[np.int64]:
        with self._transaction() as cur:
            cur.execute(sql.SQL("SELECT face_id FROM {} ORDER BY face_id").format(self._table))
            return np.array([row[0] for row in cur.fetchall()], dtype=np.int64)

    def checksum(self) -> str:
        return ids_checksum(self.face_ids())

    def person_face_ids(self, person_id: int) -> NDArray[np.int64]:
        with self._transaction() as cur:
            cur.execute(
                sql.SQL("SELECT face_id FROM {} WHERE person_id = %s ORDER BY face_id").format(
                    self._table
                ),
                (int(person_id),),
            )
            return np.array([row[0] for row in cur.fetchall()], dtype=np.int64)

    def entries(self, face_ids: ArrayLike) -> _Batch:
        """The given faces that are indexed: (face ids ascending, person ids, vectors)."""
        wanted = np.unique(_validate.id_array(face_ids, "face_ids"))
        if wanted.size == 0:
            return _rows([], self._dim)
        with self._transaction() as cur:
            cur.execute(
                sql.SQL(
                    "SELECT face_id, person_id, embedding FROM {} WHERE face_id = ANY(%s) "
                    "ORDER BY face_id"
                ).format(self._table),
                (wanted.tolist(),),
            )
            return _rows(cur.fetchall(), self._dim)

    # ---- writes -----------------------------------------------------------------

    def add(self, face_ids: ArrayLike, person_ids: ArrayLike, vectors: ArrayLike) -> None:
        """Add faces; a face id already present is replaced (vector and person)."""
        batch = self._checked_batch(face_ids, person_ids, vectors)
        if batch[0].size == 0:
            return
        with self._transaction() as cur:
            self._upsert(cur, batch)
        self._fit_hnsw()

    def rebuild(self, batches: Iterable[_Batch]) -> None:
        """Replace every face by `batches` in one transaction: searches see the old
        gallery until the new one is committed whole."""
        with self._transaction() as cur:
            cur.execute(sql.SQL("DELETE FROM {}").format(self._table))
            for face_ids, person_ids, vectors in batches:
                batch = self._checked_batch(face_ids, person_ids, vectors)
                if batch[0].size:
                    self._upsert(cur, batch)
        self._fit_hnsw()

    def remove(self, face_ids: ArrayLike) -> int:
        """Remove faces by id; unknown ids are ignored. Returns how many were removed."""
        fids = np.unique(_validate.id_array(face_ids, "face_ids"))
        if fids.size == 0:
            return 0
        with self._transaction() as cur:
            cur.execute(
                sql.SQL("DELETE FROM {} WHERE face_id = ANY(%s)").format(self._table),
                (fids.tolist(),),
            )
            return cur.rowcount

    def remove_person(self, person_id: int) -> int:
        with self._transaction() as cur:
            cur.execute(
                sql.SQL("DELETE FROM {} WHERE person_id = %s").format(self._table),
                (int(person_id),),
            )
            return cur.rowcount

    def _checked_batch(
        self, face_ids: ArrayLike, person_ids: ArrayLike, vectors: ArrayLike
    ) -> _Batch:
        fids = _validate.face_id_array(face_ids)
        pids = _validate.id_array(person_ids, "person_ids")
        vecs = _validate.unit_vectors(vectors, self._dim)
        if not (fids.size == pids.size == vecs.shape[0]):
            raise ValueError(
                f"face_ids ({fids.size}), person_ids ({pids.size}) and vectors "
                f"({vecs.shape[0]}) must have the same length"
            )
        if np.unique(fids).size != fids.size:
            raise ValueError("face_ids contain duplicates")
        return fids, pids, vecs

    def _upsert(self, cur: psycopg.Cursor[tuple[object, ...]], batch: _Batch) -> None:
        """COPY into a temporary table, then one upsert: far faster than row inserts."""
        cur.execute(
            sql.SQL(
                "CREATE TEMPORARY TABLE IF NOT EXISTS facebank_incoming "
                "(face_id bigint, person_id bigint, embedding vector({})) ON COMMIT DELETE ROWS"
            ).format(sql.Literal(self._dim))
        )
        copy_sql = "COPY facebank_incoming FROM STDIN WITH (FORMAT BINARY)"
        with cur.copy(copy_sql) as copy:
            copy.set_types(["int8", "int8", "vector"])
            for fid, pid, vec in zip(*batch, strict=True):
                copy.write_row((int(fid), int(pid), vec))
        cur.execute(
            sql.SQL(
                "INSERT INTO {} SELECT * FROM facebank_incoming ON CONFLICT (face_id) DO UPDATE "
                "SET person_id = EXCLUDED.person_id, embedding = EXCLUDED.embedding"
            ).format(self._table)
        )

    def _fit_hnsw(self) -> None:
        """Build the HNSW index once the gallery reaches `ann_threshold` faces. It is kept
        when the gallery shrinks again: pgvector maintains it, and rebuilding is slow."""
        with self._transaction() as cur:
            if self._has_hnsw(cur):
                return
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(self._table))
            row = cur.fetchone()
            if row is None or int(row[0]) < self._ann_threshold:  # type: ignore[call-overload]
                return
            cur.execute(
                sql.SQL(
                    "CREATE INDEX IF NOT EXISTS {} ON {} USING hnsw (embedding vector_ip_ops) "
                    "WITH (m = {}, ef_construction = {})"
                ).format(
                    self._hnsw,
                    self._table,
                    sql.Literal(HNSW_M),
                    sql.Literal(HNSW_EF_CONSTRUCTION),
                )
            )

    # ---- reads ------------------------------------------------------------------

    def search(
        self,
        queries: ArrayLike,
        top_k: int,
        allowed_people: Collection[int] | None = None,
    ) -> list[list[PersonHit]]:
        """For each query row, the `top_k` best-matching distinct people, best first.

        A roster is answered exactly: every face of the roster is fetched and scored.
        """
        q = _validate.unit_vectors(queries, self._dim, "queries")
        if top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {top_k}")
        with self._transaction() as cur:
            if allowed_people is not None:
                roster = _validate.roster_array(allowed_people)
                return self._search_roster(cur, q, top_k, roster)
            hnsw = self._has_hnsw(cur)
            return [self._search_one(cur, query, top_k, hnsw) for query in q]

    def _search_one(
        self, cur: psycopg.Cursor[tuple[object, ...]], query: NDArray[np.float32], top_k: int,
        hnsw: bool,
    ) -> list[PersonHit]:  # fmt: skip
        """Widen the face window until `top_k` people are seen or the table is exhausted."""
        k = max(FACES_PER_PERSON * top_k, MIN_FACES)
        while True:
            exact = not hnsw or k > EF_SEARCH_MAX
            cur.execute(
                "SELECT set_config('enable_indexscan', %s, true)", ("off" if exact else "on",)
            )
            if not exact:
                cur.execute(
                    "SELECT set_config('hnsw.ef_search', %s, true)", (str(max(self._ef_search, k)),)
                )
            cur.execute(
                sql.SQL(
                    "SELECT face_id, person_id, embedding FROM {} "
                    "ORDER BY embedding <#> %s LIMIT %s"
                ).format(self._table),
                (query, k),
            )
            fids, pids, vecs = _rows(cur.fetchall(), self._dim)
            hits = _ranked(query, fids, pids, vecs, top_k)
            if len(hits) >= top_k:
                return hits
            if fids.size < k:
                if exact:
                    return hits  # every face was seen: fewer people is the answer
                # HNSW can return fewer than asked (a sparse region, dead tuples): only an
                # exact scan tells "no more faces" apart from "not reached".
                hnsw = False
                continue
            k *= WIDEN_FACTOR

    def _search_roster(
        self, cur: psycopg.Cursor[tuple[object, ...]], q: NDArray[np.float32], top_k: int,
        roster: NDArray[np.int64],
    ) -> list[list[PersonHit]]:  # fmt: skip
        cur.execute(
            sql.SQL(
                "SELECT face_id, person_id, embedding FROM {} WHERE person_id = ANY(%s)"
            ).format(self._table),
            (roster.tolist(),),
        )
        fids, pids, vecs = _rows(cur.fetchall(), self._dim)
        return [_ranked(query, fids, pids, vecs, top_k) for query in q]

    def person_scores(self, query: ArrayLike, person_id: int) -> float | None:
        """Best cosine of `query` against the person's faces; None if they have none."""
        q = _validate.query_vector(query, self._dim)
        with self._transaction() as cur:
            cur.execute(
                sql.SQL("SELECT face_id, person_id, embedding FROM {} WHERE person_id = %s").format(
                    self._table
                ),
                (int(person_id),),
            )
            _, _, vecs = _rows(cur.fetchall(), self._dim)
        return None if vecs.shape[0] == 0 else float(np.max(vecs @ q[0]))

    # ---- plumbing ---------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Cursor[tuple[object, ...]]]:
        with (
            _unavailable_as_error(),
            self._pool.connection() as conn,
            conn.transaction(),
            conn.cursor() as cur,
        ):
            yield cur

    def _has_hnsw(self, cur: psycopg.Cursor[tuple[object, ...]]) -> bool:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (self._hnsw_name,))
        row = cur.fetchone()
        return bool(row and row[0])

    def _scalar(self, query: str) -> int:
        with self._transaction() as cur:
            cur.execute(sql.SQL(query).format(self._table))
            row = cur.fetchone()
            return 0 if row is None else int(row[0])  # type: ignore[call-overload]


@contextmanager
def _unavailable_as_error() -> Iterator[None]:
    """Connection-level failures (refused, dropped, no pooled connection in time: all
    OperationalError or InterfaceError in psycopg) as the one error the API maps to 503."""
    try:
        yield
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        raise VectorEngineUnavailableError(
            f"the vector engine cannot be reached: {exc}", retry_after_s=RETRY_AFTER_S
        ) from exc


def _connect_timeout(timeout_s: float) -> int:
    return max(1, round(timeout_s))  # libpq takes whole seconds


def _rows(rows: list[tuple[object, ...]], dim: int) -> _Batch:
    if not rows:
        return (
            np.empty(0, np.int64), np.empty(0, np.int64), np.empty((0, dim), np.float32)
        )  # fmt: skip
    fids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    pids = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
    vecs = np.stack([_as_array(r[2]) for r in rows])
    return fids, pids, vecs


def _as_array(value: object) -> NDArray[np.float32]:
    assert isinstance(value, Vector)  # the loader register_vector installed
    return np.asarray(value.to_numpy(), dtype=np.float32)


def _ranked(
    query: NDArray[np.float32], fids: NDArray[np.int64], pids: NDArray[np.int64],
    vecs: NDArray[np.float32], top_k: int,
) -> list[PersonHit]:  # fmt: skip
    """Exact float32 cosines, as FAISS scores them, then each person's best face."""
    if fids.size == 0:
        return []
    scores = vecs @ query
    order = np.argsort(-scores, kind="stable")
    return best_per_person(scores[order], fids[order], pids[order], top_k)
