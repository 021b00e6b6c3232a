"""What a command's TARGET names, and the agent it makes on the command line's client.

A target is a bundled example's name (`weather`) or `module:attr`. `module:attr` is imported
with the current folder on `sys.path` (as `python -m` and uvicorn do), so `agentkit run
mymod:agent` works from the folder holding `mymod.py`. `attr` may be dotted (`mymod:app.agent`);
it names an `Agent`, or with `--factory` a function that takes no arguments and returns one.

A user's agent built with a client of its own keeps it: only an agent with no client gets the
command line's (xAI with a key, else the simulator). `--base-url` or `--provider`, typed on the
command line, replace the agent's own client, and say so.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import sys
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from ._cli_client import describe_client, make_client
from ._cli_parser import CommandLineError
from .agent import Agent
from .client import GrokClient

__all__ = ["Bound", "Target", "bind", "example_names", "resolve"]

_EXAMPLE_HINT = "module:attr, e.g. mymod:agent for the Agent named agent in ./mymod.py"


class TargetLoadError(Exception):
    """The target's own code failed while being imported or called (exit code 1)."""


@dataclass(frozen=True)
class Target:
    """A resolved target, before any client exists.

    Attributes:
        text: The target as typed.
        agent: The user's agent (module:attr), or None for a bundled example.
        example: The example's module, or None for module:attr.
        default_prompt: The example's own prompt, or None.
    """

    text: str
    agent: Agent[Any, Any] | None
    example: ModuleType | None
    default_prompt: str | None


@dataclass(frozen=True)
class Bound:
    """The agent a command runs, and what each of its runs is given.

    Attributes:
        agent: The agent, on the client it will use.
        model_settings: Per-run settings (the `--timeout` for a client the user built),
            or None.
        base_url: Where its requests go, when over HTTP (for error hints).
    """

    agent: Agent[Any, Any]
    model_settings: dict[str, Any] | None
    base_url: str | None


def example_names() -> list[str]:
    """The bundled examples, simplest first."""
    # Bundled beside the package in a checkout and inside it in the wheel: found at run time.
    examples = importlib.import_module("agentkit.examples")
    return list(examples.EXAMPLES)


def resolve(text: str, *, factory: bool = False) -> Target:
    """What `text` names. Done before any client exists, so that a mistake is a usage error.

    Raises:
        CommandLineError: Not an example, not a well-formed module:attr, not importable,
            no such attribute, not an Agent (or, with --factory, not a function taking no
            arguments).
        TargetLoadError: The module raised while being imported, or the factory while
            building the agent.
    """
    if ":" not in text:
        if text in example_names():
            module = importlib.import_module(f"agentkit.examples.{text}")
            return Target(text, None, module, str(module.DEFAULT_PROMPT))
        raise CommandLineError(
            f"no example named {text!r}; choose one of: {', '.join(example_names())}, "
            f"or give {_EXAMPLE_HINT}{_file_hint(text)}"
        )
    module_name, _, attr = text.partition(":")
    if not module_name:
        raise _bad(text, "the module before ':' is missing")
    if not attr:
        raise _bad(text, "the attribute after ':' is missing")
    if not all(part.isidentifier() for part in module_name.split(".")):
        raise _bad(text, f"{module_name!r} is not a module name")
    if not all(part.isidentifier() for part in attr.split(".")):
        raise _bad(text, f"{attr!r} is not an attribute name")
    module = _import(module_name, text)
    found: Any = module
    for depth, part in enumerate(attr.split(".")):
        try:
            found = getattr(found, part)
        except AttributeError:
            where = module_name if depth == 0 else f"{module_name}:{'.'.join(attr.split('.')[:depth])}"
            raise _bad(text, f"{where} has no attribute {part!r}{_agents_in(module)}") from None
    if factory:
        found = _call_factory(found, text)
    elif not isinstance(found, Agent) and callable(found):
        raise _unusable(text, f"{attr} is a {_kind(found)}, not an Agent: pass --factory to "
                        "call it for one")
    if not isinstance(found, Agent):
        what = f"{attr}() returned" if factory else f"{attr} is"
        raise _unusable(text, f"{what} {_a(found)}, not an Agent{_agents_in(module)}")
    return Target(text, found, None, None)


def _bad(text: str, problem: str) -> CommandLineError:
    """A target that is not a usable module:attr, saying what was wrong with it."""
    return CommandLineError(f"bad target {text!r}: {problem}; expected module:attr, "
                            "e.g. mymod:agent")


def _unusable(text: str, problem: str) -> CommandLineError:
    """A well-formed target whose object cannot be used as it is named."""
    return CommandLineError(f"target {text!r}: {problem}")


def _file_hint(text: str) -> str:
    """A hint for a target that looks like a file, or names one in the current folder."""
    path = Path(text)
    if path.suffix == ".py":
        return f" (for {text}: {path.stem}:ATTR, run from the folder holding it)"
    if Path(f"{text}.py").is_file():
        return f" (did you mean {text}:ATTR, ATTR being the Agent's name in {text}.py?)"
    return ""


def _import(module_name: str, text: str) -> ModuleType:
    # The folder the command runs in, first, as `python -m` would have it: a console script
    # only has its own folder on sys.path.
    here = os.getcwd()
    if here not in sys.path and "" not in sys.path:
        sys.path.insert(0, here)
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and (module_name == error.name or module_name.startswith(f"{error.name}.")):
            raise _bad(text, f"no module named {error.name!r} in {here} or on sys.path") from None
        # A module the target's own code imports is missing: that code's failure.
        raise TargetLoadError(f"importing {module_name!r} failed: {error}") from error
    except Exception as error:
        raise TargetLoadError(
            f"importing {module_name!r} failed: {type(error).__name__}: {error}") from error


def _call_factory(found: Any, text: str) -> Any:
    if isinstance(found, Agent):
        raise _unusable(text, "it is already an Agent: leave out --factory")
    if not callable(found):
        raise _unusable(text, f"it is {_a(found)}, not callable, so --factory cannot call it")
    if inspect.iscoroutinefunction(found):
        raise _unusable(text, "it is an async function; --factory calls a plain function "
                        "that returns an Agent")
    try:
        signature = inspect.signature(found)
    except (TypeError, ValueError):
        signature = None
    if signature is not None:
        needed = [p.name for p in signature.parameters.values()
                  if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if needed:
            names = ", ".join(needed)
            raise _unusable(text, f"--factory calls it with no arguments, but it needs "
                       f"{names}: give {'it a default' if len(needed) == 1 else 'them defaults'}"
                       ", or point at a function that takes none")
    try:
        return found()
    except Exception as error:
        raise TargetLoadError(
            f"{text}() failed: {type(error).__name__}: {error}") from error


def _kind(value: Any) -> str:
    if inspect.isclass(value):
        return "class"
    return "function" if inspect.isroutine(value) else "callable object"


def _a(value: Any) -> str:
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _agents_in(module: ModuleType) -> str:
    names = [name for name, value in vars(module).items() if isinstance(value, Agent)]
    return f" (Agents in {module.__name__}: {', '.join(names)})" if names else ""


async def bind(target: Target, args: argparse.Namespace, stack: AsyncExitStack, err: TextIO,
               *, per_run_settings: bool = True) -> Bound:
    """The agent the command runs, on the client it should use, saying where requests go.

    A client the command line makes is closed with `stack`; one the user built is left alone.

    Args:
        target: From `resolve`.
        args: The command line (`--model`, `--base-url`, `--provider`, `--timeout`...).
        stack: Closes what is opened here.
        err: Where the one line about the destination goes.
        per_run_settings: Whether the caller can pass model_settings to each run (run, chat);
            without it, `--timeout` cannot reach a client the user built.

    Raises:
        CommandLineError: `--timeout` for the agent's own client where runs take no settings.
    """
    chose = args.base_url is not None or args.provider != "auto"
    if target.agent is not None:
        own = target.agent.client
        if own is not None and not chose:
            print(f"agentkit: {target.text} uses its own client: requests go to "
                  f"{describe_client(own)}", file=err)
            settings: dict[str, Any] | None = None
            if args.timeout is not None and isinstance(own, GrokClient):
                if not per_run_settings:
                    raise CommandLineError(
                        f"--timeout cannot change the client {target.text} was built with "
                        "here; set timeout= on its GrokClient, or give --base-url or "
                        "--provider so that the command line makes the client")
                settings = {"timeout": args.timeout}
            base = own.base_url if isinstance(own, GrokClient) else None
            return Bound(target.agent.replace(model=args.model), settings, base)
        client = await stack.enter_async_context(make_client(args, err))
        if own is not None:
            flag = "--base-url" if args.base_url is not None else f"--provider {args.provider}"
            print(f"agentkit: {flag} replaces the client {target.text} was built with", file=err)
        return Bound(target.agent.replace(model=args.model, client=client), None,
                     client.base_url)
    assert target.example is not None
    client = await stack.enter_async_context(make_client(args, err))
    build: Callable[..., Agent[Any, Any]] = target.example.build_agent
    agent = build(client=client, **({"model": args.model} if args.model else {}))
    return Bound(agent, None, client.base_url)
