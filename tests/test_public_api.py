"""The public surface: a sorted `__all__`, every name importable, one exception root."""

from __future__ import annotations

import inspect
from pathlib import Path

import agentkit
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
