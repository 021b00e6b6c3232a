"""`retrieval_tools(folder, embed=...)`: semantic search over a folder of text documents.

The index is built lazily, on the first search, and kept by the tool the factory returns
(one index per factory call, no globals). Each later search re-reads the folder's listing
and re-embeds only the files that changed, so edits are picked up without paying for the
whole folder again. Vectors are normalized once at indexing time; ranking is then a dot
product, in pure Python.

`embed` is any async function from texts to vectors; `embedder_for(client)` makes one from
a `GrokClient`'s embeddings endpoint. Tests pass a fake one, so nothing here needs the
network.
"""

from __future__ import annotations

import base64
import math
import os
import re
import struct
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import anyio
import anyio.to_thread
from pydantic import Field

from agentkit.errors import ConfigurationError, ToolRetry, UserError
from agentkit.tool import Tool, tool

from ._safepath import READ_FLAGS, LeavesRoot, Root, is_regular, supported

if TYPE_CHECKING:
    from agentkit.client import GrokClient

__all__ = ["Embed", "embedder_for", "retrieval_tools", "split_passages"]

Embed = Callable[[list[str]], Awaitable[list[list[float]]]]
"""An async function that returns one vector per input text, in order."""

TEXT_SUFFIXES = frozenset(
    {".txt", ".md", ".markdown", ".rst", ".text", ".adoc", ".org", ".csv", ".tsv", ".json",
     ".yaml", ".yml", ".toml", ".ini", ".html", ".htm", ".xml", ".tex"}
)  # fmt: skip
"""File suffixes indexed as text."""

EMBED_BATCH = 64
"""Texts per call to `embed` (and per request in `embedder_for`)."""

MAX_FILE_BYTES = 5_000_000
"""Larger files are skipped."""

MAX_PASSAGES = 20_000
"""Indexing stops here: beyond it, embedding cost and search time stop being small."""


@dataclass(frozen=True)
class Passage:
    """A piece of a document, as indexed and returned.

    Attributes:
        file: The file's path relative to the folder, with `/` separators.
        position: The passage's index within its file (0 for the first).
        line: The line the passage starts on (1-based).
        text: The passage text.
    """

    file: str
    position: int
    line: int
    text: str


def split_passages(text: str, *, file: str, chunk_chars: int) -> list[Passage]:
    """Split a document into passages of whole paragraphs, each at most `chunk_chars` long.

    Paragraphs (separated by blank lines) are packed together while they fit; a paragraph
    longer than `chunk_chars` is cut at sentence ends or spaces where possible.

    Args:
        text: The document.
        file: The name recorded in each passage.
        chunk_chars: The longest passage, in characters.

    Returns:
        The passages in document order.
    """
    paragraphs: list[tuple[int, str]] = []  # (line number, text)
    for match in re.finditer(r"\S(?:.*?)(?=\n[ \t]*\n|\Z)", text, re.DOTALL):
        line = text.count("\n", 0, match.start()) + 1
        paragraphs.extend((line, piece) for piece in _cut(match.group(0).strip(), chunk_chars))
    passages: list[Passage] = []
    current: list[str] = []
    start_line = 1
    for line, paragraph in paragraphs:
        if current and sum(len(p) + 2 for p in current) + len(paragraph) > chunk_chars:
            passages.append(Passage(file, len(passages), start_line, "\n\n".join(current)))
            current = []
        if not current:
            start_line = line
        current.append(paragraph)
    if current:
        passages.append(Passage(file, len(passages), start_line, "\n\n".join(current)))
    return passages


def _cut(paragraph: str, limit: int) -> list[str]:
    pieces: list[str] = []
    while len(paragraph) > limit:
        window = paragraph[:limit]
        # Prefer a sentence end, then any space, in the second half of the window.
        cut = max(window.rfind(". "), window.rfind("? "), window.rfind("! ")) + 1
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit
        pieces.append(paragraph[:cut].strip())
        paragraph = paragraph[cut:].strip()
    if paragraph:
        pieces.append(paragraph)
    return pieces


def _normalized(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(math.fsum(x * x for x in vector))
    return [x / norm for x in vector] if norm else [0.0 for _ in vector]


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return math.fsum(x * y for x, y in zip(a, b, strict=True))


@dataclass(frozen=True)
class _IndexedFile:
    stamp: tuple[int, int]  # (mtime_ns, size): when either changes, the file is re-embedded
    passages: list[Passage]
    vectors: list[list[float]]


class _Index:
    """The passages and unit vectors of one folder, refreshed file by file."""

    def __init__(self, folder: Path, embed: Embed, chunk_chars: int):
        self.folder = folder
        self.embed = embed
        self.chunk_chars = chunk_chars
        self.root = Root(folder) if supported() else None
        self.files: dict[str, _IndexedFile] = {}
        # Two searches at once must not both embed the folder; anyio's lock, not asyncio's.
        self.lock = anyio.Lock()

    async def refresh(self) -> None:
        async with self.lock:
            stamps = await anyio.to_thread.run_sync(self._scan)
            for name in list(self.files):
                if name not in stamps:
                    del self.files[name]
            changed = [n for n, stamp in stamps.items() if self._stale(n, stamp)]
            if not changed:
                return
            budget = MAX_PASSAGES - sum(len(f.passages) for f in self.files.values())
            read: dict[str, list[Passage]] = {}
            for name in changed:
                passages = await anyio.to_thread.run_sync(self._read, name)
                read[name] = passages[: max(budget, 0)]
                budget -= len(read[name])
            # One run of batches across all changed files: many small files, few requests.
            vectors = await self._embed_all([p.text for ps in read.values() for p in ps])
            start = 0
            for name, passages in read.items():
                end = start + len(passages)
                self.files[name] = _IndexedFile(stamps[name], passages, vectors[start:end])
                start = end

    def _stale(self, name: str, stamp: tuple[int, int]) -> bool:
        known = self.files.get(name)
        return known is None or known.stamp != stamp

    def _scan(self) -> dict[str, tuple[int, int]]:
        stamps: dict[str, tuple[int, int]] = {}
        for folder, dirs, files in os.walk(self.folder, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                path = Path(folder) / name
                if path.suffix.lower() not in TEXT_SUFFIXES or name.startswith("."):
                    continue
                try:
                    # A symlink out of the folder would index files nobody chose to share.
                    if not path.resolve().is_relative_to(self.folder) or not path.is_file():
                        continue
                    info = path.stat()
                except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python 3.11)
                    continue
                if info.st_size <= MAX_FILE_BYTES:
                    stamps[path.relative_to(self.folder).as_posix()] = (
                        info.st_mtime_ns,
                        info.st_size,
                    )
        return stamps

    def _read(self, name: str) -> list[Passage]:
        raw = self._read_bytes(name)
        if raw is None:
            return []
        if b"\x00" in raw[:8192]:
            return []  # binary content behind a text suffix
        text = raw.decode("utf-8", errors="replace")
        return split_passages(text, file=name, chunk_chars=self.chunk_chars)

    def _read_bytes(self, name: str) -> bytes | None:
        """The contents of `name`, opened without following links out of the folder.

        `_scan` checked the name, but it can be swapped for a symlink to a file outside
        before it is read here: the no-follow walk from the folder refuses that link.
        """
        if self.root is None:  # no openat() here: the best the platform allows
            try:
                return (self.folder / name).read_bytes()
            except OSError:
                return None
        try:
            descriptor, _ = self.root.open(tuple(name.split("/")), READ_FLAGS)
        except (LeavesRoot, OSError):
            return None
        try:
            if not is_regular(descriptor):
                return None
            with open(descriptor, "rb", closefd=False) as handle:
                return handle.read(MAX_FILE_BYTES)  # grown since the scan: cut, not unbounded
        except OSError:
            return None
        finally:
            os.close(descriptor)

    async def _embed_all(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), EMBED_BATCH):
            batch = texts[start : start + EMBED_BATCH]
            vectors.extend(_normalized(v) for v in await self._checked_embed(batch))
        return vectors

    async def _checked_embed(self, texts: list[str]) -> list[list[float]]:
        vectors = await self.embed(texts)
        if len(vectors) != len(texts):
            raise UserError(
                f"the embed function returned {len(vectors)} vectors for {len(texts)} texts; "
                "it must return one vector per text, in order"
            )
        return [list(v) for v in vectors]

    async def search(self, query: str, top_k: int) -> list[dict[str, Any]]:
        await self.refresh()
        (query_vector,) = await self._checked_embed([query])
        unit = _normalized(query_vector)
        entries = [
            (passage, vector)
            for indexed in self.files.values()
            for passage, vector in zip(indexed.passages, indexed.vectors, strict=True)
        ]
        if entries and len(entries[0][1]) != len(unit):
            raise UserError(
                f"the embed function returned a {len(unit)}-dimensional query vector for "
                f"{len(entries[0][1])}-dimensional passages; use the same model for both"
            )

        def rank() -> list[tuple[float, Passage]]:
            scored = [(_dot(unit, vector), passage) for passage, vector in entries]
            scored.sort(key=lambda item: (-item[0], item[1].file, item[1].position))
            return scored[:top_k]

        best = await anyio.to_thread.run_sync(rank)  # thousands of dot products: off the loop
        return [
            {
                "score": round(score, 4),
                "file": passage.file,
                "line": passage.line,
                "position": passage.position,
                "text": passage.text,
            }
            for score, passage in best
        ]


def retrieval_tools(
    folder: str | Path,
    *,
    embed: Embed,
    chunk_chars: int = 800,
    top_k: int = 4,
) -> list[Tool]:
    """A `search_documents` tool over the text files in `folder`.

    Args:
        folder: The documents' folder; its subfolders are included (hidden ones are not),
            and only files with a text suffix (.txt, .md, .rst, ...) are read.
        embed: An async function from a list of texts to one vector per text, e.g.
            `embedder_for(client)`.
        chunk_chars: The longest passage, in characters.
        top_k: How many passages a search returns when the model does not say.

    Returns:
        `[search_documents]`, with its own index, built on the first search.

    Raises:
        ConfigurationError: `folder` is not an existing folder, or an option is out of range.
    """
    base = Path(folder).expanduser()
    if not base.is_dir():
        raise ConfigurationError(
            f"retrieval_tools(folder=...): {str(base)!r} is not an existing folder"
        )
    if chunk_chars < 50:
        raise ConfigurationError(
            f"retrieval_tools(chunk_chars=...) must be >= 50, not {chunk_chars}"
        )
    if not 1 <= top_k <= 50:
        raise ConfigurationError(f"retrieval_tools(top_k=...) must be 1 to 50, not {top_k}")
    index = _Index(base.resolve(), embed, chunk_chars)

    @tool
    async def search_documents(
        query: str, top_k: Annotated[int, Field(ge=1, le=50)] = top_k
    ) -> list[dict[str, Any]]:
        """Search the document collection for the passages most relevant to a query.

        Matching is by meaning, not exact words, so phrase the query as a question or a
        description of what you need. Returns the best passages first, each as
        `{"score", "file", "line", "position", "text"}` (score is cosine similarity, 1 at
        best); cite `file` when you use a passage. An empty list means no documents.

        Args:
            query: What to look for, e.g. "how do I reset my password?".
            top_k: How many passages to return.
        """
        if not query.strip():
            raise ToolRetry("the query is empty; describe what you are looking for")
        return await index.search(query, top_k)

    return [search_documents]


def embedder_for(client: GrokClient, model: str = "v1", *, batch_size: int = EMBED_BATCH) -> Embed:
    """Adapt a client's embeddings endpoint to the `embed` function `retrieval_tools` takes.

    Args:
        client: A `GrokClient` (or anything with `embeddings.create(model=, input=)`
            returning an `EmbeddingList`).
        model: The embedding model id.
        batch_size: Texts per request.

    Returns:
        An async function from texts to vectors, one request per `batch_size` texts.
    """
    if batch_size < 1:
        raise ConfigurationError(f"embedder_for(batch_size=...) must be >= 1, not {batch_size}")

    async def embed(texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), batch_size):
            batch = texts[start : start + batch_size]
            response = await client.embeddings.create(model=model, input=batch)
            # The API says `index`; do not trust the order of `data`.
            ordered = sorted(response.data, key=lambda item: item.index)
            if len(ordered) != len(batch):
                raise UserError(
                    f"the embeddings endpoint returned {len(ordered)} vectors for "
                    f"{len(batch)} inputs (model {model!r})"
                )
            vectors.extend(_as_floats(item.embedding) for item in ordered)
        return vectors

    return embed


def _as_floats(embedding: list[float] | str) -> list[float]:
    if isinstance(embedding, str):  # encoding_format="base64": little-endian float32
        raw = base64.b64decode(embedding)
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    return [float(x) for x in embedding]
