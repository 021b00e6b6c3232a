"""`retrieval_tools`: lazy indexing, ranking by cosine similarity, caching, and the adapter."""

from __future__ import annotations

import base64
import re
import struct
import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import pytest

from agentkit.errors import ConfigurationError, ToolRetry, UserError
from agentkit.tool import Tool
from agentkit.tools import retrieval
from agentkit.tools.retrieval import embedder_for, retrieval_tools, split_passages

_DIMENSIONS = 256
_STOP_WORDS = {"the", "a", "an", "of", "to", "and", "is", "in", "how", "do", "i", "what", "it"}


class BagOfWords:
    """A deterministic fake embedding: hashed word counts. Records every call."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    async def __call__(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        vectors = []
        for text in texts:
            vector = [0.0] * _DIMENSIONS
            for word in re.findall(r"[a-z]+", text.lower()):
                if word not in _STOP_WORDS:
                    vector[zlib.crc32(word.encode()) % _DIMENSIONS] += 1.0
            vectors.append(vector)
        return vectors

    @property
    def embedded(self) -> list[str]:
        return [text for call in self.calls for text in call]


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    (folder / "space").mkdir(parents=True)
    (folder / "cats.md").write_text(
        "# Cats\n\nCats sleep most of the day and purr when content.\n\n"
        "A cat grooms its fur with its rough tongue.\n"
    )
    (folder / "space" / "rockets.txt").write_text(
        "Rockets carry satellites into orbit.\n\nA rocket launch needs fuel, oxygen and thrust.\n"
    )
    (folder / "cooking.rst").write_text("Bread\n=====\n\nKnead the dough, then bake the bread.\n")
    (folder / "image.png").write_bytes(b"\x89PNG rocket rocket rocket")  # not a text suffix
    (folder / "fake.txt").write_bytes(b"rocket\x00\x01\x02")  # binary behind a text suffix
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "rockets.md").write_text("rocket rocket rocket launch")
    (tmp_path / "private.md").write_text("rocket launch codes, outside the folder")
    (folder / "leak.md").symlink_to(tmp_path / "private.md")
    return folder


def _search(folder: Path, embed: Any, **options: Any) -> Tool:
    options.setdefault("chunk_chars", 50)  # small enough that each paragraph stands alone
    (tool,) = retrieval_tools(folder, embed=embed, **options)
    assert tool.name == "search_documents"
    return tool


@pytest.mark.anyio
async def test_ranks_the_closest_passages_first(library: Path) -> None:
    embed = BagOfWords()
    search = _search(library, embed)
    with anyio.fail_after(5):
        results = await search("rocket launch fuel")
    assert results[0]["file"] == "space/rockets.txt"
    assert results[0]["text"] == "A rocket launch needs fuel, oxygen and thrust."
    assert results[0]["line"] == 3
    assert results[0]["position"] == 1
    assert 0 < results[0]["score"] <= 1
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    assert len(results) == 4  # the factory's top_k
    assert {r["file"] for r in results} <= {"cats.md", "space/rockets.txt", "cooking.rst"}

    with anyio.fail_after(5):
        cats = await search("do cats purr when content", top_k=1)
    assert cats == [
        {
            "score": cats[0]["score"],
            "file": "cats.md",
            "line": 3,
            "position": 1,
            "text": "Cats sleep most of the day and purr when content.",
        }
    ]


@pytest.mark.anyio
async def test_skips_binary_hidden_and_outside_files(library: Path) -> None:
    embed = BagOfWords()
    with anyio.fail_after(5):
        results = await _search(library, embed)("rocket launch codes", top_k=50)
    assert {r["file"] for r in results} == {"cats.md", "space/rockets.txt", "cooking.rst"}
    assert not any("codes" in text or "\x00" in text for text in embed.embedded[:-1])


@pytest.mark.anyio
async def test_a_symlink_loop_is_skipped_without_leaking_a_host_path(library: Path) -> None:
    # Path.resolve() raises RuntimeError (with the absolute path) for a loop on Python 3.11.
    (library / "loop.md").symlink_to("loop.md")
    (library / "ping.md").symlink_to("pong.md")
    (library / "pong.md").symlink_to("ping.md")
    with anyio.fail_after(5):
        results = await _search(library, BagOfWords())("cats", top_k=50)
    assert {r["file"] for r in results} == {"cats.md", "space/rockets.txt", "cooking.rst"}


@pytest.mark.anyio
async def test_a_file_swapped_for_a_link_out_after_the_scan_is_not_read(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race made deterministic: cats.md passes the scan, then becomes a link out of the
    # folder before it is read; reading it by name would index the private file.
    scan = retrieval._Index._scan

    def scan_then_swap(self: Any) -> dict[str, tuple[int, int]]:
        stamps = scan(self)
        (library / "cats.md").unlink()
        (library / "cats.md").symlink_to(library.parent / "private.md")
        return stamps

    monkeypatch.setattr(retrieval._Index, "_scan", scan_then_swap)
    embed = BagOfWords()
    with anyio.fail_after(5):
        results = await _search(library, embed)("rocket launch codes", top_k=50)
    assert not any("codes" in text for text in embed.embedded[:-1])
    assert all("codes" not in r["text"] for r in results)
    assert "space/rockets.txt" in {r["file"] for r in results}


@pytest.mark.anyio
async def test_indexes_lazily_once_and_refreshes_only_changed_files(library: Path) -> None:
    embed = BagOfWords()
    search = _search(library, embed)
    assert embed.calls == []  # nothing happens until the first search
    with anyio.fail_after(5):
        await search("bread")
        indexed = len(embed.embedded)
        assert indexed == 6 + 1  # 6 passages and the query
        await search("cats")
        assert len(embed.embedded) == indexed + 1  # only the query this time

        (library / "cooking.rst").write_text("Soup\n====\n\nSimmer the soup slowly.\n")
        (library / "space" / "rockets.txt").unlink()
        results = await search("simmer soup", top_k=10)
    assert embed.calls[-2] == ["Soup\n====\n\nSimmer the soup slowly."]  # just the changed file
    assert results[0]["text"] == "Soup\n====\n\nSimmer the soup slowly."
    assert all(r["file"] != "space/rockets.txt" for r in results)


@pytest.mark.anyio
async def test_each_factory_call_has_its_own_index(library: Path) -> None:
    first, second = BagOfWords(), BagOfWords()
    with anyio.fail_after(5):
        await _search(library, first)("cats")
        await _search(library, second)("cats")
    assert len(first.embedded) == len(second.embedded) == 7


@pytest.mark.anyio
async def test_concurrent_first_searches_index_once(library: Path) -> None:
    embed = BagOfWords()
    search = _search(library, embed)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            for query in ("cats", "rockets", "bread"):
                group.start_soon(search, query)
    assert len(embed.embedded) == 6 + 3


@pytest.mark.anyio
async def test_batches_passages_for_embed(tmp_path: Path) -> None:
    (tmp_path / "many.txt").write_text(
        "\n\n".join(f"paragraph {i} " + "x" * 60 for i in range(150))
    )
    embed = BagOfWords()
    with anyio.fail_after(5):
        await _search(tmp_path, embed, chunk_chars=80)("paragraph")
    assert [len(call) for call in embed.calls] == [64, 64, 22, 1]


@pytest.mark.anyio
async def test_an_empty_folder_returns_nothing_and_an_empty_query_is_a_retry(
    tmp_path: Path,
) -> None:
    search = _search(tmp_path, BagOfWords())
    with anyio.fail_after(5):
        assert await search("anything") == []
        with pytest.raises(ToolRetry, match="empty"):
            await search("   ")


@pytest.mark.anyio
async def test_a_bad_embed_function_is_a_user_error(library: Path) -> None:
    async def short(texts: list[str]) -> list[list[float]]:
        return [[1.0]]

    with anyio.fail_after(5), pytest.raises(UserError, match="one vector per text"):
        await _search(library, short)("cats")


def test_factory_checks_its_arguments(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not an existing folder"):
        retrieval_tools(tmp_path / "missing", embed=BagOfWords())
    with pytest.raises(ConfigurationError, match="chunk_chars"):
        retrieval_tools(tmp_path, embed=BagOfWords(), chunk_chars=10)
    with pytest.raises(ConfigurationError, match="top_k"):
        retrieval_tools(tmp_path, embed=BagOfWords(), top_k=0)


def test_schema_default_top_k_comes_from_the_factory(tmp_path: Path) -> None:
    tool = _search(tmp_path, BagOfWords(), top_k=7)
    assert tool.parameters["properties"]["top_k"]["default"] == 7
    assert tool.parameters["required"] == ["query"]


def test_split_passages_packs_paragraphs_up_to_the_limit() -> None:
    text = "First para.\n\nSecond para.\n\n\n\nThird one is a bit longer than the others."
    passages = split_passages(text, file="a.md", chunk_chars=30)
    assert [(p.position, p.line, p.text) for p in passages] == [
        (0, 1, "First para.\n\nSecond para."),
        (1, 7, "Third one is a bit longer"),
        (2, 7, "than the others."),
    ]
    assert all(len(p.text) <= 30 for p in passages)
    assert {p.file for p in passages} == {"a.md"}
    whole = split_passages(text, file="a.md", chunk_chars=800)
    assert len(whole) == 1 and whole[0].text.startswith("First para.\n\nSecond")


def test_split_passages_cuts_long_paragraphs_at_sentences() -> None:
    text = "One sentence here. Another sentence there. " * 5
    passages = split_passages(text, file="x", chunk_chars=50)
    assert all(len(p.text) <= 50 for p in passages)
    assert passages[0].text == "One sentence here. Another sentence there."
    assert " ".join(p.text for p in passages) == text.strip()


class _FakeEmbeddings:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    async def create(self, *, model: str, input: list[str]) -> Any:
        self.requests.append({"model": model, "input": list(input)})
        items = [
            SimpleNamespace(index=i, embedding=[float(len(text)), float(i)])
            for i, text in enumerate(input)
        ]
        if len(input) > 1:  # out of order on purpose: the adapter must sort by index
            items.reverse()
            items[0] = SimpleNamespace(
                index=items[0].index,
                embedding=base64.b64encode(struct.pack("<2f", *items[0].embedding)).decode(),
            )
        return SimpleNamespace(data=items)


@pytest.mark.anyio
async def test_embedder_for_batches_and_orders_by_index() -> None:
    embeddings = _FakeEmbeddings()
    embed = embedder_for(SimpleNamespace(embeddings=embeddings), model="grok-embed", batch_size=2)  # type: ignore[arg-type]
    with anyio.fail_after(5):
        vectors = await embed(["a", "bb", "ccc", "dddd", "eeeee"])
    assert vectors == [[1.0, 0.0], [2.0, 1.0], [3.0, 0.0], [4.0, 1.0], [5.0, 0.0]]
    assert embeddings.requests == [
        {"model": "grok-embed", "input": ["a", "bb"]},
        {"model": "grok-embed", "input": ["ccc", "dddd"]},
        {"model": "grok-embed", "input": ["eeeee"]},
    ]
    assert embedder_for(SimpleNamespace(embeddings=embeddings)) is not None  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="batch_size"):
        embedder_for(SimpleNamespace(embeddings=embeddings), batch_size=0)  # type: ignore[arg-type]
