"""`@tool`, `Tool` and `Toolset`: functions the model may call, and how a call is run.

A `Tool` keeps the function callable as before and adds what the agent needs: the schema in
each provider's dialect (`definition`), argument validation against the full pydantic model
(`validate_arguments`), a run that injects the `RunContext`, keeps sync code off the event
loop and enforces the timeout (`invoke`), and the text sent back to the model (`serialize`).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import importlib
import inspect
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import (
    TYPE_CHECKING,
    Any,
    Protocol,
    TypeAlias,
    TypedDict,
    Unpack,
    cast,
    overload,
    runtime_checkable,
)

import anyio
import anyio.to_thread
import pydantic_core
from pydantic import BaseModel, ConfigDict, ValidationError

from ._schema import (
    TOOL_NAME_PATTERN,
    FunctionSchema,
    Target,
    clean_schema,
    function_schema,
    to_target,
)
from ._validation import drop_rejected_nulls, error_details, format_errors, format_loc
from .context import RunContext
from .errors import ToolArgumentsError, ToolDefinitionError, ToolTimeoutError, UserError

if TYPE_CHECKING:
    from .state import ToolCallRequest

__all__ = [
    "ApprovalPolicy",
    "PrepareFunction",
    "Tool",
    "ToolOptions",
    "ToolSource",
    "Toolset",
    "is_tool_source",
    "serialize_result",
    "split_sources",
    "tool",
]

ApprovalPolicy: TypeAlias = (
    "bool | Callable[[RunContext[Any], ToolCallRequest], bool | Awaitable[bool]]"
)
"""Whether a call needs a person's yes first: always, never, or decided per call."""

PrepareFunction: TypeAlias = Callable[
    [RunContext[Any], dict[str, Any]], "dict[str, Any] | Awaitable[dict[str, Any] | None] | None"
]
"""`(ctx, definition) -> definition | None`, per run and turn: None hides the tool."""


class ToolOptions(TypedDict, total=False):
    """The options of `@tool(...)`; each is described on `Tool`."""

    name: str | None
    description: str | None
    timeout: float | None
    strict: bool | None
    retries: int | None
    max_result_chars: int | None
    requires_approval: ApprovalPolicy
    deferred: bool
    prepare: PrepareFunction | None


class Tool:
    """A function the model may call, with its schema and the machinery to run a call.

    Calling the tool calls the function, unchanged. Used as a class attribute, a tool made
    from a method binds like one: `obj.tool` is a `Tool` whose schema has no `self`.

    Attributes:
        function: The original function.
        is_async: Whether the function is a coroutine function (sync ones run in a thread).
        timeout: Seconds a call may take before `ToolTimeoutError`; None for no limit.
        strict: Whether to send the schema in OpenAI strict mode; None lets the agent decide.
        retries: How many failed calls the model may retry; None uses the agent's default.
        max_result_chars: Results longer than this are cut by `serialize`; None keeps all.
        requires_approval: True, or a function `(ctx, call) -> bool` (sync or async) deciding
            per call: the run stops before such a call and lists it in
            `result.interruptions` until it is approved or rejected.
        deferred: The caller supplies the result (another service, a browser, a person):
            the function is never run; the run stops with the call in
            `result.interruptions` until `state.set_result(...)`.
        prepare: A function `(ctx, definition) -> definition | None` (sync or async) called
            before each model request: None hides the tool for that turn, a dict replaces
            the definition the model sees (its name must stay the same).
    """

    __name__: str  # with __doc__, __qualname__ and __wrapped__, copied from the function

    def __init__(
        self,
        function: Callable[..., Any],
        /,
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        strict: bool | None = None,
        retries: int | None = None,
        max_result_chars: int | None = None,
        requires_approval: ApprovalPolicy = False,
        deferred: bool = False,
        prepare: PrepareFunction | None = None,
    ):
        """Make a tool of `function`.

        Args:
            function: A sync or async function (or method) with annotated parameters.
            name: The name the model calls it by; defaults to the function's name.
            description: What the tool does; defaults to the docstring's text.
            timeout: Seconds a call may take; None for no limit.
            strict: Send the schema in OpenAI strict mode; None lets the agent decide.
            retries: Failed calls the model may retry; None uses the agent's default.
            max_result_chars: Cut results longer than this many characters; None keeps all.
            requires_approval: True, or `(ctx, call) -> bool`: stop the run for a person's
                decision before the call runs.
            deferred: The result comes from the caller, not from running the function.
            prepare: `(ctx, definition) -> definition | None`, before each request.

        Raises:
            ToolDefinitionError: The function cannot be a tool, or an option is out of range.
        """
        if isinstance(function, Tool):
            raise ToolDefinitionError(
                f"{function.name!r} is already a tool; apply @tool once, to the function"
            )
        label = getattr(function, "__qualname__", repr(function))
        _check_options(label, timeout, retries, max_result_chars, requires_approval, deferred,
                       prepare)
        self._schema: FunctionSchema = function_schema(function, name=name, description=description)
        # Set by `from_schema`: checks the arguments against the JSON Schema it was given.
        self._checker: _SchemaChecker | None = None
        self.function = function
        self.is_async = inspect.iscoroutinefunction(function)
        self._set_options(timeout, strict, retries, max_result_chars, requires_approval,
                          deferred, prepare)
        functools.update_wrapper(self, function, updated=())
        if strict:
            self._parameters_for("strict")  # a schema strict mode cannot express fails here

    def _set_options(
        self,
        timeout: float | None,
        strict: bool | None,
        retries: int | None,
        max_result_chars: int | None,
        requires_approval: ApprovalPolicy,
        deferred: bool,
        prepare: PrepareFunction | None,
    ) -> None:
        self.timeout = None if timeout is None else float(timeout)
        self.strict = strict
        self.retries = retries
        self.max_result_chars = max_result_chars
        self.requires_approval: ApprovalPolicy = requires_approval
        self.deferred = deferred
        self.prepare = prepare
        # Whether the loop must look at this tool's calls before running them.
        self.interrupts = deferred or requires_approval is not False
        # The instance a method tool is bound to, passed first, as Python does for methods.
        self._bound_to: tuple[Any, ...] = ()
        # Per-target schemas, computed on first use; shared by bound and renamed copies.
        self._target_schemas: dict[str, dict[str, Any]] = {}

    @classmethod
    def from_schema(
        cls,
        name: str,
        description: str,
        parameters: Mapping[str, Any],
        call: Callable[[dict[str, Any]], Any],
        *,
        timeout: float | None = None,
        strict: bool | None = None,
        retries: int | None = None,
        max_result_chars: int | None = None,
        requires_approval: ApprovalPolicy = False,
        deferred: bool = False,
        prepare: PrepareFunction | None = None,
    ) -> Tool:
        """Make a tool of a JSON Schema and a function that takes the arguments as one dict.

        For tools described elsewhere (an MCP server, an OpenAPI operation, a plugin's
        manifest): the schema is sent to the model as given (made acceptable to each target,
        as for any tool), and the model's arguments are checked against all of it, with the
        `jsonschema` package, before `call` sees them.

        Args:
            name: The name the model calls it by (1 to 64 letters, digits, '_' or '-').
            description: What the tool does, as the model reads it.
            parameters: A JSON Schema whose root is an object (`"type": "object"`).
            call: `call(arguments) -> result`, sync or async; `arguments` is the validated
                dict. Sync functions run in a worker thread, as for other tools.
            timeout, strict, retries, max_result_chars, requires_approval, deferred,
                prepare: As for `Tool`.

        Returns:
            The tool. Calling it with keyword arguments calls `call` with them as a dict.

        Raises:
            ToolDefinitionError: The name or the schema is invalid, an option is out of range,
                or `jsonschema` is not installed.
        """
        label = repr(name)
        _check_options(label, timeout, retries, max_result_chars, requires_approval, deferred,
                       prepare)
        if not isinstance(name, str) or not TOOL_NAME_PATTERN.fullmatch(name):
            raise ToolDefinitionError(
                f"{name!r} is not a valid tool name; use 1 to 64 letters, digits, '_' or '-'"
            )
        if not callable(call):
            raise ToolDefinitionError(f"tool {label}: call must be a function, not {call!r}")
        checker = _SchemaChecker(name, parameters)
        function = _schema_function(name, description, call)
        tool = cls.__new__(cls)
        tool._schema = FunctionSchema(
            name=name,
            description=description,
            # `$schema` and `$id` say which dialect the document is in: nothing for the model.
            parameters=clean_schema(
                {k: v for k, v in parameters.items() if k not in ("$schema", "$id")}
            ),
            model=_ArgumentsObject,
            fields=(),
        )
        tool._checker = checker
        tool.function = function
        tool.is_async = inspect.iscoroutinefunction(function)
        tool._set_options(timeout, strict, retries, max_result_chars, requires_approval,
                          deferred, prepare)
        functools.update_wrapper(tool, function, updated=())
        if strict:
            tool._parameters_for("strict")
        return tool

    @property
    def name(self) -> str:
        """The name the model calls the tool by."""
        return self._schema.name

    @property
    def description(self) -> str:
        """What the tool does, as the model reads it."""
        return self._schema.description

    @property
    def parameters(self) -> dict[str, Any]:
        """The JSON Schema of the arguments (standard dialect; a fresh copy)."""
        return copy.deepcopy(self._schema.parameters)

    @property
    def takes_context(self) -> bool:
        """Whether the function has a `RunContext` parameter for `invoke` to fill."""
        return self._schema.context_param is not None

    def definition(self, target: Target = "grok") -> dict[str, Any]:
        """The tool as the chat API expects it in `tools`.

        Args:
            target: `"grok"` (xAI's schema subset), `"openai"` (standard) or `"strict"`
                (OpenAI strict mode; adds `"strict": true`).

        Returns:
            `{"type": "function", "function": {"name", "description", "parameters"}}`.

        Raises:
            ToolDefinitionError: The schema cannot be expressed for `target`.
        """
        function: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "parameters": copy.deepcopy(self._parameters_for(target)),
        }
        if target == "strict":
            function["strict"] = True
        return {"type": "function", "function": function}

    def validate_arguments(self, arguments: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
        """Validate the model's arguments into keyword arguments for the function.

        Args:
            arguments: The JSON text the model sent (`""` and `"null"` mean no arguments),
                or an already-decoded dict.

        Returns:
            The validated values by parameter name, without the `RunContext`.

        Raises:
            ToolArgumentsError: Bad JSON, not an object, or fields that do not validate;
                the message lists every bad field and `errors` has them as data.
        """
        model = self._schema.model
        try:
            if isinstance(arguments, str):
                empty = arguments.strip() in ("", "null")
                instance = (
                    model.model_validate({}) if empty else model.model_validate_json(arguments)
                )
            elif isinstance(arguments, bytes | bytearray):
                empty = arguments.strip() in (b"", b"null")
                instance = (
                    model.model_validate({}) if empty else model.model_validate_json(arguments)
                )
            else:
                instance = model.model_validate(arguments)
        except ValidationError as exc:
            instance = self._validate_without_nulls(arguments, exc)
        if self._checker is not None:
            return self._checker.check(dict(instance.__pydantic_extra__ or {}))
        values = instance.__dict__
        return {param: values[field] for field, param in self._schema.fields}

    async def invoke(
        self, arguments: str | bytes | Mapping[str, Any], ctx: RunContext[Any] | None = None
    ) -> Any:
        """Validate `arguments`, run the function and return what it returned.

        Sync functions run in a worker thread so the event loop stays free. Exceptions from
        the function, `ToolRetry` and `ModelRetry` included, propagate unchanged.

        Args:
            arguments: As for `validate_arguments`.
            ctx: The run context, required when the tool takes one.

        Raises:
            ToolArgumentsError: The arguments do not validate.
            ToolTimeoutError: The call took longer than `timeout`.
            UserError: The tool needs a context and none was given, or it is a method
                used through its class instead of an instance.
        """
        if self._schema.receiver is not None and not self._bound_to:
            raise UserError(
                f"tool {self.name!r} is a method; use it through an instance "
                f"(`obj.{getattr(self.function, '__name__', self.name)}`), not through the class"
            )
        kwargs = self.validate_arguments(arguments)
        if self._schema.context_param is not None:
            if ctx is None:
                raise UserError(f"tool {self.name!r} takes a RunContext; pass ctx= to invoke()")
            kwargs[self._schema.context_param] = ctx
        if self.timeout is None:
            return await self._run(kwargs)
        try:
            with anyio.fail_after(self.timeout) as scope:
                return await self._run(kwargs)
        except TimeoutError as exc:
            # Only our deadline becomes ToolTimeoutError; the function's own TimeoutError
            # (a slow HTTP call, say) is its exception and propagates unchanged.
            if not scope.cancelled_caught:
                raise
            raise ToolTimeoutError(
                f"tool {self.name!r} did not finish within {self.timeout} s", tool_name=self.name
            ) from exc

    def serialize(self, value: Any) -> str:
        """The text sent to the model for a result: `serialize_result` with `max_result_chars`."""
        return serialize_result(value, max_chars=self.max_result_chars)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*self._bound_to, *args, **kwargs)

    def __get__(self, instance: Any, owner: type | None = None) -> Tool:
        if instance is None or self._schema.receiver is None:
            return self
        bound = copy.copy(self)
        bound._bound_to = (instance,)
        return bound

    def __repr__(self) -> str:
        return f"Tool({self.name!r}, function={_origin(self.function)})"

    def _with_name(self, name: str) -> Tool:
        if not TOOL_NAME_PATTERN.fullmatch(name):
            raise ToolDefinitionError(
                f"{name!r} (tool {self.name!r} with a prefix) is not a valid tool name; "
                "use 1 to 64 letters, digits, '_' or '-' in all, so shorten the prefix"
            )
        renamed = copy.copy(self)
        renamed._schema = dataclasses.replace(self._schema, name=name)
        return renamed

    def _parameters_for(self, target: Target) -> dict[str, Any]:
        schema = self._target_schemas.get(target)
        if schema is None:
            try:
                schema = to_target(self._schema.parameters, target)
            except ValueError as exc:
                raise ToolDefinitionError(
                    f"tool {self.name!r} cannot be sent with schema target {target!r}: {exc}"
                ) from exc
            self._target_schemas[target] = schema
        return schema

    def _validate_without_nulls(
        self, arguments: str | bytes | Mapping[str, Any], exc: ValidationError
    ) -> BaseModel:
        """Retry with rejected nulls dropped (strict mode's "use the default"), or raise."""
        model = self._schema.model
        if any(error["input"] is None for error in exc.errors(include_url=False)):
            try:
                if isinstance(arguments, str | bytes | bytearray):
                    pruned = drop_rejected_nulls(pydantic_core.from_json(arguments), exc)
                    if pruned is not None:  # the same JSON-mode coercions as the first try
                        return model.model_validate_json(pydantic_core.to_json(pruned))
                else:
                    pruned = drop_rejected_nulls(arguments, exc)
                    if pruned is not None:
                        return model.model_validate(pruned)
            except (ValueError, TypeError, ValidationError):
                pass  # the first attempt's errors are the ones worth reporting
        raise ToolArgumentsError(
            f"Invalid arguments for tool {self.name!r}; fix them and call it again:\n"
            + format_errors(exc, root="arguments"),
            tool_name=self.name,
            errors=error_details(exc),
        ) from exc

    async def _run(self, kwargs: dict[str, Any]) -> Any:
        if self.is_async:
            return await self.function(*self._bound_to, **kwargs)
        call = functools.partial(self.function, *self._bound_to, **kwargs)
        # A timed-out sync call cannot be stopped; abandoning it frees the caller at least.
        result = await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
        if inspect.isawaitable(result):  # a sync wrapper around an async function
            result = await result
        return result


@overload
def tool(function: Callable[..., Any], /, **options: Unpack[ToolOptions]) -> Tool: ...


@overload
def tool(
    function: None = None, /, **options: Unpack[ToolOptions]
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    function: Callable[..., Any] | None = None, /, **options: Unpack[ToolOptions]
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Make a `Tool` of a function: `@tool` or `@tool(name=..., timeout=...)`.

    Args:
        function: The function, when used without parentheses.
        **options: `Tool`'s keyword arguments: name, description, timeout, strict, retries,
            max_result_chars, requires_approval, deferred, prepare.

    Returns:
        The tool, or a decorator that makes one.

    Raises:
        ToolDefinitionError: The function cannot be a tool; the message says why.
    """
    if function is None:
        return lambda f: Tool(f, **options)
    return Tool(function, **options)


class Toolset:
    """A named group of tools, possibly prefixed and filtered; toolsets nest.

    Iterating yields the tools; `len`, `in` (by name) and `get` work as on a mapping.
    """

    def __init__(
        self,
        tools: Iterable[Tool | Toolset | Callable[..., Any]],
        *,
        prefix: str | None = None,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
    ):
        """Group `tools`.

        Args:
            tools: Tools, toolsets (flattened) or plain functions (made tools with defaults).
            prefix: Rename every tool to `prefix_name`.
            include: Keep only these tools (names before the prefix).
            exclude: Drop these tools (names before the prefix).

        Raises:
            ToolDefinitionError: Two tools share a name, `include`/`exclude` name a tool
                that is not there, or a prefixed name is too long.
        """
        collected: list[Tool] = []
        for item in tools:
            if isinstance(item, Toolset):
                collected.extend(item)
            elif isinstance(item, Tool):
                collected.append(item)
            elif callable(item):
                collected.append(Tool(item))
            else:
                raise ToolDefinitionError(
                    f"Toolset takes tools, toolsets and functions, not {item!r}"
                )
        available = {t.name for t in collected}
        wanted = _names(include)
        unwanted = _names(exclude)
        for option, names in (("include", wanted), ("exclude", unwanted)):
            unknown = sorted((names or set()) - available)
            if unknown:
                raise ToolDefinitionError(
                    f"Toolset({option}=...) names tools that are not in the set: "
                    f"{', '.join(unknown)}; the tools are: {', '.join(sorted(available))}"
                )
        if wanted is not None:
            collected = [t for t in collected if t.name in wanted]
        if unwanted:
            collected = [t for t in collected if t.name not in unwanted]
        if prefix:
            collected = [t._with_name(f"{prefix}_{t.name}") for t in collected]
        self._tools: dict[str, Tool] = {}
        for item in collected:
            other = self._tools.get(item.name)
            if other is item:
                continue
            if other is not None:
                raise ToolDefinitionError(
                    f"two tools are named {item.name!r}: {_origin(other.function)} and "
                    f"{_origin(item.function)}; rename one with @tool(name=...) or put them "
                    "in toolsets with different prefixes"
                )
            self._tools[item.name] = item
        self.prefix = prefix

    @property
    def names(self) -> list[str]:
        """The tool names, in order."""
        return list(self._tools)

    def get(self, name: str) -> Tool | None:
        """The tool called `name`, or None."""
        return self._tools.get(name)

    def definitions(self, target: Target = "grok") -> list[dict[str, Any]]:
        """Every tool's `definition(target)`, in order."""
        return [t.definition(target) for t in self._tools.values()]

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __repr__(self) -> str:
        return f"Toolset({self.names!r})"


@runtime_checkable
class ToolSource(Protocol):
    """Tools that come from elsewhere at run time: an MCP server, say.

    Give one in `Agent(tools=[...])` beside plain tools. Before each run the agent asks it
    for its tools; a source that is an async context manager and is not open (`is_open`
    false) is opened for the run and closed after it, in the run's own task.
    """

    async def list_tools(self) -> Sequence[Tool]:
        """The tools on offer now."""
        ...


def is_tool_source(value: object) -> bool:
    """Whether `value` gives its tools at run time (has an async `list_tools`)."""
    return not isinstance(value, Tool | Toolset) and callable(getattr(value, "list_tools", None))


def split_sources(
    items: Iterable[Tool | Toolset | ToolSource | Callable[..., Any]],
) -> tuple[list[ToolSource], list[Tool | Toolset | Callable[..., Any]]]:
    """`items` as (tool sources, everything else), each in order."""
    sources: list[ToolSource] = []
    rest: list[Tool | Toolset | Callable[..., Any]] = []
    for item in items:
        if is_tool_source(item):
            sources.append(cast(ToolSource, item))
        else:
            rest.append(cast("Tool | Toolset | Callable[..., Any]", item))
    return sources, rest


def serialize_result(value: Any, *, max_chars: int | None = None) -> str:
    """Turn a tool's return value into the text the model reads.

    - `str`: as is.
    - `None`: `"null"`, and `True`/`False`: `"true"`/`"false"`: JSON words, so a tool that
      returns `dict | None` reads the same either way.
    - `bytes`: decoded as UTF-8, bad bytes replaced.
    - pydantic models, dataclasses, dicts, lists, tuples and sets: compact JSON (dates,
      UUIDs and nested models included; unknown objects inside through `str()`).
    - anything else: `str(value)`.

    Text that is not valid UTF-8 (lone surrogates) has the bad characters replaced. Only an
    object whose own `__str__` fails makes this raise.

    Args:
        value: What the tool returned.
        max_chars: Keep this many characters and append `"\\n[truncated: N more characters]"`.

    Returns:
        The text.
    """
    text = _to_text(value)
    if max_chars is not None and len(text) > max_chars:
        text = f"{text[:max_chars]}\n[truncated: {len(text) - max_chars} more characters]"
    return text


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return _valid_utf8(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, BaseModel | dict | list | tuple | set | frozenset) or (
        dataclasses.is_dataclass(value) and not isinstance(value, type)
    ):
        try:
            return pydantic_core.to_json(value, fallback=str).decode("utf-8", errors="replace")
        except Exception:  # a lone surrogate or a failing __str__ deep inside: plain form next
            pass
    # str() may raise (or, through a broken __str__, not return a str): the caller reports
    # that as the tool's failure rather than sending the model a made-up rendering.
    return _valid_utf8(str(value))


def _valid_utf8(text: str) -> str:
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="replace").decode("utf-8")
    return text


def _check_options(
    label: str,
    timeout: float | None,
    retries: int | None,
    max_result_chars: int | None,
    requires_approval: ApprovalPolicy,
    deferred: bool,
    prepare: PrepareFunction | None,
) -> None:
    if timeout is not None and not timeout > 0:
        raise ToolDefinitionError(f"tool {label}: timeout must be > 0 seconds, not {timeout}")
    if retries is not None and retries < 0:
        raise ToolDefinitionError(f"tool {label}: retries must be >= 0, not {retries}")
    if max_result_chars is not None and max_result_chars < 0:
        raise ToolDefinitionError(
            f"tool {label}: max_result_chars must be >= 0, not {max_result_chars}"
        )
    if not isinstance(requires_approval, bool) and not callable(requires_approval):
        raise ToolDefinitionError(
            f"tool {label}: requires_approval must be True, False or a function "
            f"(ctx, call) -> bool, not {requires_approval!r}"
        )
    if prepare is not None and not callable(prepare):
        raise ToolDefinitionError(f"tool {label}: prepare must be a function, not {prepare!r}")
    if deferred and requires_approval is not False:
        raise ToolDefinitionError(
            f"tool {label}: a deferred tool's result comes from the caller, so approving "
            "it means nothing; drop requires_approval"
        )


class _ArgumentsObject(BaseModel):
    """Any JSON object. A schema tool's arguments are parsed with it, so bad JSON and a
    non-object get the same errors as every other tool's; `_SchemaChecker` does the rest."""

    model_config = ConfigDict(extra="allow", defer_build=True)  # built by the first schema tool


# jsonschema repeats the offending value in its messages: a long one would drown the rest.
_MAX_MESSAGE_CHARS = 200


class _SchemaChecker:
    """Checks a schema tool's arguments against its whole JSON Schema, with `jsonschema`."""

    def __init__(self, tool_name: str, schema: Mapping[str, Any]):
        if not isinstance(schema, Mapping) or schema.get("type") != "object":
            found = schema.get("type") if isinstance(schema, Mapping) else type(schema).__name__
            raise ToolDefinitionError(
                f"tool {tool_name!r}: the parameters schema must have \"type\": \"object\" at "
                f"its root, since the arguments are one JSON object (found {found!r})"
            )
        try:
            # Imported by name: jsonschema ships no type information, and only schema tools
            # need it (the `mcp` extra brings it).
            jsonschema = importlib.import_module("jsonschema")
            referencing = importlib.import_module("referencing")
        except ImportError:
            raise ToolDefinitionError(
                f"tool {tool_name!r}: checking arguments against a JSON Schema needs the "
                "jsonschema package: pip install jsonschema"
            ) from None
        document = copy.deepcopy(dict(schema))
        validator_class = jsonschema.validators.validator_for(
            document, default=jsonschema.Draft202012Validator
        )
        try:
            validator_class.check_schema(document)
        except jsonschema.SchemaError as exc:
            raise ToolDefinitionError(
                f"tool {tool_name!r}: the parameters are not a valid JSON Schema: {exc.message}"
            ) from None
        # An empty registry: a `$ref` resolves inside the schema, never by fetching a URL.
        self._validator = validator_class(document, registry=referencing.Registry())
        self._tool_name = tool_name

    def check(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """`arguments` if they validate, else without the nulls the schema rejected (strict
        mode's "use the default") if that validates; otherwise ToolArgumentsError."""
        errors = list(self._validator.iter_errors(arguments))
        if not errors:
            return arguments
        pruned = _drop_null_errors(arguments, errors)
        if pruned is not None and not any(True for _ in self._validator.iter_errors(pruned)):
            return pruned
        details = _schema_error_details(errors)
        lines = [f"- {detail['loc'] or 'arguments'}: {detail['msg']}" for detail in details]
        raise ToolArgumentsError(
            f"Invalid arguments for tool {self._tool_name!r}; fix them and call it again:\n"
            + "\n".join(lines),
            tool_name=self._tool_name,
            errors=details,
        )


def _schema_error_details(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """jsonschema's errors as `{"loc", "msg", "input"}`, one per bad field, in path order."""
    details: dict[tuple[str, str], dict[str, Any]] = {}
    for error in sorted(errors, key=lambda e: [str(part) for part in e.absolute_path]):
        path = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            # One error per missing property, each naming them all in validator_value.
            for missing in error.validator_value:
                if missing not in error.instance:
                    loc = format_loc([*path, missing])
                    details[loc, "required"] = {
                        "loc": loc, "msg": "Field required", "input": error.instance,
                    }
            continue
        message = str(error.message)
        if len(message) > _MAX_MESSAGE_CHARS:
            message = message[: _MAX_MESSAGE_CHARS - 3] + "..."
        loc = format_loc(path)
        details[loc, message] = {"loc": loc, "msg": message, "input": error.instance}
    return list(details.values())


def _drop_null_errors(arguments: dict[str, Any], errors: Sequence[Any]) -> dict[str, Any] | None:
    """A copy of `arguments` without the object members that are null and were rejected,
    or None if there are none."""
    pruned = copy.deepcopy(arguments)
    dropped = False
    for error in errors:
        path = list(error.absolute_path)
        if error.instance is not None or not path:
            continue
        container: Any = pruned
        for part in path[:-1]:
            try:
                container = container[part]
            except (KeyError, IndexError, TypeError):
                container = None
                break
        if isinstance(container, dict) and container.get(path[-1], 0) is None:
            del container[path[-1]]
            dropped = True
    return pruned if dropped else None


def _schema_function(
    name: str, description: str, call: Callable[[dict[str, Any]], Any]
) -> Callable[..., Any]:
    """A function taking the arguments as keywords, for `call` that takes them as one dict."""
    function: Any
    if inspect.iscoroutinefunction(call):

        async def call_async(**arguments: Any) -> Any:
            return await call(arguments)

        function = call_async
    else:

        def call_sync(**arguments: Any) -> Any:
            return call(arguments)

        function = call_sync
    # What a repr, a clash error or a trace shows: the tool's name and where `call` lives.
    function.__name__ = name
    function.__qualname__ = getattr(call, "__qualname__", None) or name
    function.__module__ = getattr(call, "__module__", None) or __name__
    function.__doc__ = description
    return cast("Callable[..., Any]", function)


def _names(names: Iterable[str] | None) -> set[str] | None:
    if names is None:
        return None
    return {names} if isinstance(names, str) else set(names)


def _origin(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", None) or repr(function)
    return f"{module}.{qualname}()" if module else f"{qualname}()"
