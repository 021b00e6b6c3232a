"""The public surface: a sorted `__all__`, every name importable, one exception root."""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import agentkit
import agentkit.client
import agentkit.types
from agentkit import errors


def test_all_is_sorted_and_unique() -> None:
    names = [n for n in agentkit.__all__ if n != "__version__"]
    assert names == sorted(names)
    assert len(set(agentkit.__all__)) == len(agentkit.__all__)


def test_every_exported_name_exists() -> None:
    for name in agentkit.__all__:
        assert getattr(agentkit, name) is not None, name


def test_every_exception_derives_from_the_root_and_is_exported() -> None:
    classes = [obj for _, obj in inspect.getmembers(errors, inspect.isclass)
               if issubclass(obj, Exception) and obj.__module__ == errors.__name__]
    assert len(classes) >= 25
    for cls in classes:
        assert issubclass(cls, agentkit.AgentKitError), cls
        assert cls.__name__ in agentkit.__all__, cls


def test_httpx2_is_imported_only_behind_the_two_doors() -> None:
    root = Path(agentkit.__file__).parent
    importers = sorted(
        str(path.relative_to(root)) for path in root.rglob("*.py")
        if any(line.startswith(("import httpx2", "from httpx2"))
               for line in path.read_text().splitlines())
    )
    assert set(importers) <= {"_http.py", "sim/transport.py"}, importers


# Importing `agentkit` must stay cheap: names load from their submodules on first use.
_HEAVY = ("httpx2", "pydantic", "jinja2", "tenacity", "agentkit.sim", "agentkit.types.responses")


def _imported_after(code: str) -> list[str]:
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True)
    return json.loads(done.stdout)


def test_import_agentkit_imports_nothing_heavy() -> None:
    loaded = _imported_after("import agentkit")
    heavy = [name for name in loaded if name.startswith(_HEAVY)]
    assert heavy == [], heavy


def test_a_plain_agent_and_client_leave_the_simulator_and_responses_alone() -> None:
    loaded = _imported_after("from agentkit import Agent, GrokClient")
    assert "agentkit.agent" in loaded and "agentkit.client._client" in loaded
    late = ("jinja2", "tenacity", "agentkit.sim", "agentkit.types.responses")
    assert [name for name in loaded if name.startswith(late)] == []


def test_every_name_resolves_in_a_fresh_process() -> None:
    code = ("import agentkit\nmissing = [n for n in agentkit.__all__ if getattr(agentkit, n, None) is None]"
            "\nassert not missing, missing")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_lazy_table_matches_the_type_checking_imports() -> None:
    # What mypy and IDEs see (the imports under TYPE_CHECKING) is what runs (`_EXPORTS`).
    for package in (agentkit, agentkit.types, agentkit.client):
        tree = ast.parse(Path(package.__file__ or "").read_text())
        block = next(node for node in tree.body if isinstance(node, ast.If)
                     and ast.unparse(node.test) == "TYPE_CHECKING")
        imported = {(("." * node.level) + (node.module or ""), alias.name)
                    for node in block.body if isinstance(node, ast.ImportFrom)
                    for alias in node.names}
        table = {(module, name) for module, names in package._EXPORTS.items() for name in names}
        assert imported == table, package.__name__
        assert {name for _, name in table} == set(package.__all__) - {"__version__"}


def test_dir_lists_the_public_names() -> None:
    for package in (agentkit, agentkit.types, agentkit.client):
        assert set(package.__all__) <= set(dir(package)), package.__name__


def test_the_tool_decorator_wins_over_the_tool_module() -> None:
    code = ("from agentkit.tool import Tool\nimport agentkit\nfrom agentkit import tool\n"
            "assert tool is agentkit.tool and callable(tool) and not hasattr(tool, '__path__')\n"
            "assert tool.__module__ == 'agentkit.tool', tool")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        agentkit.NoSuchThing  # noqa: B018
    with pytest.raises(ImportError):
        from agentkit import NoSuchThing  # noqa: F401
