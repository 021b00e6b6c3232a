"""`agentkit tools`: the bundled tools, and the tools each bundled factory makes.

The stateless tools come from `bundled_tools()`. The factories (`file_tools`, `sqlite_tools`,
`retrieval_tools`...) are found in `agentkit.tools` by their signature (they return tools and
need an argument only the developer can choose); each is called once on a throwaway folder,
database or embedder to read the tools it makes, so the listing is what the code really
builds. A boolean option that adds tools (`allow_write=True`) is tried too, and its extra
tools are marked with it.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sqlite3
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ._cli_render import is_tty, terminal_size
from ._docstring import parse_docstring
from .tool import Tool

__all__ = ["Factory", "factories", "list_tools"]


@dataclass
class Factory:
    """A bundled tool factory and what it makes.

    Attributes:
        name: The function's name in `agentkit.tools`.
        needs: The required parameters, each with its type and description.
        signature: How it is called, e.g. `file_tools(root, *, allow_write=False)`.
        tools: The tools it makes, each with the option that adds it ("" when always made).
    """

    name: str
    needs: list[tuple[str, str, str]]
    signature: str
    tools: list[tuple[Tool, str]] = field(default_factory=list)


def _returns_tools(function: Callable[..., Any]) -> bool:
    annotation = inspect.signature(function).return_annotation
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return text in ("list[Tool]", "Tool")


def _required(function: Callable[..., Any]) -> list[inspect.Parameter]:
    return [p for p in inspect.signature(function).parameters.values()
            if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


async def _never_embed(texts: list[str]) -> list[list[float]]:
    raise AssertionError("agentkit tools only lists the tools; it never searches")


def _samples(scratch: Path) -> dict[str, Any]:
    """Harmless stand-ins for what a factory needs, by parameter name."""
    folder = scratch / "folder"
    folder.mkdir()
    database = scratch / "listing.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS t (x)")
    connection.close()
    return {"root": folder, "folder": folder, "database": database, "embed": _never_embed}


def factories() -> list[Factory]:
    """Every bundled factory that needs an argument, with the tools it makes."""
    module = importlib.import_module("agentkit.tools")
    found: list[Factory] = []
    with tempfile.TemporaryDirectory(prefix="agentkit-tools-") as scratch:
        samples = _samples(Path(scratch))
        for name in module.__all__:
            function = getattr(module, name)
            if not inspect.isfunction(function) or name == "bundled_tools":
                continue
            if not _returns_tools(function) or not _required(function):
                continue
            found.append(_describe(name, function, samples))
    return found


def _describe(name: str, function: Callable[..., Any], samples: dict[str, Any]) -> Factory:
    docs = parse_docstring(function.__doc__).params
    required = _required(function)
    needs = [(p.name, _annotation(p), docs.get(p.name, "")) for p in required]
    factory = Factory(name, needs, f"{name}{_plain_signature(function)}")
    if any(p.name not in samples for p in required):
        return factory  # nothing to try it on: listed with what it needs only
    positional = [samples[p.name] for p in required if p.kind is not p.KEYWORD_ONLY]
    keywords = {p.name: samples[p.name] for p in required if p.kind is p.KEYWORD_ONLY}
    base = _as_list(function(*positional, **keywords))
    factory.tools = [(tool, "") for tool in base]
    seen = {tool.name for tool in base}
    for option in inspect.signature(function).parameters.values():
        if option.default is False:
            more = _as_list(function(*positional, **keywords, **{option.name: True}))
            factory.tools += [(tool, f"{option.name}=True") for tool in more
                              if tool.name not in seen]
            seen.update(tool.name for tool in more)
    return factory


def _as_list(made: Any) -> list[Tool]:
    return [made] if isinstance(made, Tool) else list(made)


def _annotation(parameter: inspect.Parameter) -> str:
    annotation = parameter.annotation
    if annotation is parameter.empty:
        return ""
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def _plain_signature(function: Callable[..., Any]) -> str:
    """The signature without annotations, which would make the line unreadably long."""
    parts: list[str] = []
    star = False
    for p in inspect.signature(function).parameters.values():
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        parts.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return f"({', '.join(parts)})"


def _summary(tool: Tool) -> str:
    """The description's first sentence (or its first paragraph, when that has none)."""
    paragraph = " ".join(tool.description.strip().split("\n\n")[0].split())
    end = paragraph.find(". ")
    return paragraph[: end + 1] if end >= 0 else paragraph


def _call(tool: Tool) -> str:
    return f"{tool.name}({', '.join(tool.parameters.get('properties', {}))})"


def list_tools(as_json: bool, out: TextIO) -> int:
    """Print the bundled tools and factories: aligned lines, or tool definitions as JSON."""
    stateless = importlib.import_module("agentkit.tools").bundled_tools()
    made = factories()
    if as_json:
        definitions: list[dict[str, Any]] = [t.definition("grok") for t in stateless]
        for factory in made:
            for tool, option in factory.tools:
                entry = dict(tool.definition("grok"))
                entry["factory"] = {
                    "name": factory.name,
                    "call": factory.signature,
                    "needs": {name: text for name, _, text in factory.needs},
                    **({"only_with": option} if option else {}),
                }
                definitions.append(entry)
        print(json.dumps(definitions, indent=2, ensure_ascii=False), file=out)
        return 0
    # Factory tools are indented two more: their descriptions start in the same column.
    calls = [len(_call(t)) for t in stateless] + [len(_call(t)) + 2 for f in made
                                                   for t, _ in f.tools]
    width = max(calls, default=0)
    wrap = _wrapper(out)
    print("Tools, ready to use (agentkit.tools.bundled_tools()):", file=out)
    for tool in stateless:
        print(f"  {_call(tool):<{width}}  {_summary(tool)}".rstrip(), file=out)
    if made:
        print("\nTool factories in agentkit.tools (call one with what it needs; pass the tools "
              "it returns to Agent(tools=...)):", file=out)
    for factory in made:
        print(f"\n  {factory.signature}", file=out)
        for name, kind, text in factory.needs:
            kind_text = f" ({kind})" if kind else ""
            print(wrap(f"    needs {name}{kind_text}: {' '.join(text.split())}".rstrip()),
                  file=out)
        if not factory.tools:
            print("    (its tools are made when it is called)", file=out)
        for tool, option in factory.tools:
            marker = f"  [with {option}]" if option else ""
            print(f"    {_call(tool):<{width - 2}}  {_summary(tool)}{marker}".rstrip(), file=out)
    return 0


def _wrapper(out: TextIO) -> Callable[[str], str]:
    """Long lines wrapped to the terminal's width; left whole in a pipe, for grep."""
    if not is_tty(out):
        return lambda line: line
    columns = max(40, terminal_size(out).columns - 1)
    return lambda line: textwrap.fill(line, columns, subsequent_indent="      ")
