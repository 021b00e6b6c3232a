"""Lazy package attributes (PEP 562): a name is imported from its submodule on first use.

`import agentkit` then costs a few milliseconds; `from agentkit import Agent` imports what
`Agent` needs and nothing else. Each package keeps its real imports under `TYPE_CHECKING`
(for mypy and IDEs) and passes the same names here, grouped by submodule.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterable, Mapping

__all__ = ["attach"]


def attach(
    package: str, exports: Mapping[str, Iterable[str]]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """Return `(__getattr__, __dir__)` for `package`, which exports `exports`.

    `exports` maps a submodule, relative to the package (`"._call"`), to the names it provides.
    """
    module = sys.modules[package]
    where = {name: package + sub for sub, names in exports.items() for name in names}
    shadowed = {name for name, target in where.items() if target == f"{package}.{name}"}
    if shadowed:
        module.__class__ = _exports_win(shadowed)

    def __getattr__(name: str) -> object:
        target = where.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        __import__(target)  # not importlib.import_module: `-X importtime` shows this one
        value = getattr(sys.modules[target], name)
        setattr(module, name, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(module.__dict__) | set(where))

    return __getattr__, __dir__


def _exports_win(shadowed: set[str]) -> type[types.ModuleType]:
    """A package class on which an exported name wins over its same-named submodule.

    Importing `agentkit.tool` makes the import system do `setattr(agentkit, "tool", module)`;
    the public `agentkit.tool` is the decorator, as it was when the package imported eagerly.
    """

    class Package(types.ModuleType):
        def __setattr__(self, name: str, value: object) -> None:
            if (name in shadowed and isinstance(value, types.ModuleType)
                    and value.__name__ == f"{self.__name__}.{name}"):
                value = getattr(value, name)
            super().__setattr__(name, value)

    return Package
