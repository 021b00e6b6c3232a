"""What a new user meets first on the command line (issue 14): a module:attr run from its own
folder, options after the prompt, an agent's own client kept, one-line errors for `serve`,
quiet exits into `head`, plurals, the factory tools, the provider list and the missing key.

Behaviour that depends on the process (the current folder on sys.path, a pipe whose reader
has gone) is checked on the installed console script in a subprocess; the rest in-process.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import agentkit.client._providers as providers
from agentkit._cli_client import make_client
from agentkit._cli_parser import PROVIDERS, build_parser
from agentkit._cli_render import plural, usage_line
from agentkit._cli_tools import factories
from agentkit.cli import main
from agentkit.client import SIMULATED_NOTICE
from agentkit.sim import SimCore, run_in_thread
from agentkit.usage import RunUsage

SCRIPT = Path(sys.executable).parent / "agentkit"
KEY = "xai-NEWCOMERSECRET_0123456789_abcdef"

# A user's module: one agent with a client of its own (a server by URL), one without, and
# factories with and without arguments.
MODULE = '''
from agentkit import Agent, GrokClient

own = Agent("grok-4.3", client=GrokClient.openai_compatible({url!r}))
plain = Agent("grok-4.3")


def make():
    return Agent("grok-4.3")


def make_with(city, unit="c"):
    return Agent("grok-4.3")


def make_text():
    return "not an agent"
'''


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, read_line=lambda: None)
    return code, out.getvalue(), err.getvalue()


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("XAI_API_KEY", "XAI_BASE_URL", "OPENROUTER_API_KEY", "COMETAPI_KEY",
                        "PYTHONPATH")}
    env.update(extra)
    return env


def script(*argv: str, cwd: Path, env: dict[str, str] | None = None,
           stdout: Any = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    if not SCRIPT.exists():
        pytest.skip(f"no agentkit console script beside {sys.executable}")
    return subprocess.run([str(SCRIPT), *argv], cwd=cwd, env=env or clean_env(), text=True,
                          stdout=stdout, stderr=subprocess.PIPE, timeout=60, check=False)


@pytest.fixture
def served() -> Iterator[str]:
    with run_in_thread(SimCore()) as base_url:
        yield f"{base_url}/v1"


@pytest.fixture
def folder(tmp_path: Path, served: str) -> Path:
    (tmp_path / "mymod.py").write_text(MODULE.format(url=served), encoding="utf-8")
    return tmp_path


# -- 1. module:attr from the current folder, and what a bad target says ------------------


def test_the_console_script_imports_a_module_from_the_current_folder(folder: Path) -> None:
    done = script("run", "mymod:plain", "Hello there", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "No module named" not in done.stderr
    assert "Hello there" in done.stdout
    assert SIMULATED_NOTICE in done.stderr  # no client: the simulator, saying so


@pytest.mark.parametrize(("target", "problem"), [
    (":build", "bad target ':build': the module before ':' is missing"),
    ("mod:", "bad target 'mod:': the attribute after ':' is missing"),
    ("a.b:missing", "bad target 'a.b:missing': no module named 'a' in "),
    ("mymod:nothing", "bad target 'mymod:nothing': mymod has no attribute 'nothing' "
     "(Agents in mymod: own, plain)"),
    ("my mod:x", "bad target 'my mod:x': 'my mod' is not a module name"),
])
def test_a_bad_module_attr_is_one_line_saying_what_is_expected(
    folder: Path, target: str, problem: str
) -> None:
    done = script("run", target, "hi", cwd=folder)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"agentkit: error: {problem}"), line
    assert line.endswith("expected module:attr, e.g. mymod:agent")


def test_a_name_that_is_neither_an_example_nor_module_attr_says_both(folder: Path) -> None:
    done = script("run", "nonsense", "hi", cwd=folder)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("agentkit: error: no example named 'nonsense'; choose one of: weather")
    assert "or give module:attr, e.g. mymod:agent" in line
    # A module's name alone: the attribute is what is missing.
    [line] = script("run", "mymod", "hi", cwd=folder).stderr.splitlines()
    assert "did you mean mymod:ATTR" in line


def test_factories_are_called_with_no_arguments_and_say_what_they_need(folder: Path) -> None:
    done = script("run", "mymod:make", "Hi from a factory", "--factory", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "Hi from a factory" in done.stdout
    done = script("run", "--factory", "mymod:make_with", "hi", cwd=folder)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "agentkit: error: target 'mymod:make_with': --factory calls it with no arguments, "
        "but it needs city: give it a default, or point at a function that takes none")
    done = script("run", "mymod:make", "hi", cwd=folder)
    assert done.returncode == 2 and "make is a function, not an Agent: pass --factory" in done.stderr
    done = script("run", "mymod:make_text", "hi", "--factory", cwd=folder)
    assert done.returncode == 2 and "make_text() returned a str, not an Agent" in done.stderr
    done = script("run", "mymod:plain", "hi", "--factory", cwd=folder)
    assert done.returncode == 2 and "already an Agent: leave out --factory" in done.stderr


def test_a_module_that_fails_to_import_is_its_own_error_exit_1(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import no_such_dependency_here\n", encoding="utf-8")
    done = script("run", "broken:agent", "hi", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == ("agentkit: error: importing 'broken' failed: No module named "
                                   "'no_such_dependency_here'")
    done = script("--debug", "run", "broken:agent", "hi", cwd=tmp_path)
    assert "Traceback" in done.stderr


# -- 2. options anywhere -------------------------------------------------------------------


def test_options_after_the_target_and_prompt() -> None:
    code, out, err = run("run", "weather", "Will it rain in Paris tomorrow?", "--json",
                         "--model", "grok-4")
    assert code == 0, err
    whole = json.loads(out)
    assert whole["output"]["city"] == "Paris"
    assert whole["messages"][1]["content"] == "Will it rain in Paris tomorrow?"
    code, out, err = run("run", "streaming_chat", "Tell me about Paris", "--stream")
    assert code == 0, err
    assert "Paris" in out


def test_model_after_the_prompt_reaches_the_server() -> None:
    models: list[str] = []
    core = SimCore()
    handle = core.handle

    def recording(method: str, path: str, headers: Any, body: bytes) -> Any:
        if path.endswith("/chat/completions"):
            models.append(json.loads(body)["model"])
        return handle(method, path, headers, body)

    core.handle = recording  # type: ignore[method-assign]
    with run_in_thread(core) as base_url:
        code, _, err = run("run", "weather", "Rain in Paris?", "--base-url", f"{base_url}/v1",
                           "--model", "grok-4")
    assert code == 0, err
    assert models and set(models) == {"grok-4"}


def test_debug_after_the_command() -> None:
    code, _, err = run("models", "--base-url", "http://127.0.0.1:9/v1", "--debug")
    assert code == 1 and "Traceback" in err
    code, _, err = run("models", "--base-url", "http://127.0.0.1:9/v1")
    assert code == 1 and "Traceback" not in err


def test_usage_mistakes_are_one_line_with_exit_2() -> None:
    code, _, err = run("run", "weather", "Will", "it", "rain")
    assert code == 2
    assert err.strip() == ("agentkit: error: unrecognized arguments: it rain; a prompt of several "
                           "words goes in quotes (see `agentkit --help`)")
    code, _, err = run("run")
    assert code == 2 and len(err.splitlines()) == 1 and "target" in err


# -- 3. the agent's own client is kept; where requests go -----------------------------------


def test_an_agent_with_its_own_client_keeps_it(folder: Path, served: str) -> None:
    done = script("run", "mymod:own", "Hello own client", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "no XAI_API_KEY" not in done.stderr and "simulated" not in done.stderr
    assert done.stderr.splitlines()[0] == (
        f"agentkit: mymod:own uses its own client: requests go to {served} "
        "(openai-compatible, no API key)")
    assert "Hello own client" in done.stdout  # answered by the server the agent names


def test_a_base_url_on_the_command_line_replaces_the_agents_client(folder: Path) -> None:
    with run_in_thread(SimCore()) as other:
        done = script("run", "mymod:own", "hi", "--base-url", f"{other}/v1", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert f"agentkit: requests go to {other}/v1 (openai-compatible, no API key)" in done.stderr
    assert "agentkit: --base-url replaces the client mymod:own was built with" in done.stderr


def test_provider_sim_with_a_key_set_does_not_claim_there_is_no_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XAI_API_KEY", KEY)
    code, out, err = run("models", "--provider", "sim")
    assert code == 0, err
    assert "no XAI_API_KEY" not in err
    assert err.splitlines()[0] == ("agentkit: --provider sim: using the local simulated Grok "
                                   "model (offline)")
    assert "grok-4.3" in out.split()


def test_a_key_in_use_is_named_by_its_variable_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XAI_API_KEY", KEY)
    with run_in_thread(SimCore(api_key=KEY)) as base_url:
        code, out, err = run("models", "--base-url", f"{base_url}/v1")
    assert code == 0, err  # the server requires the key: it was sent
    assert err.splitlines()[0] == (
        f"agentkit: requests go to {base_url}/v1 (openai-compatible, API key from XAI_API_KEY)")
    assert "NEWCOMERSECRET" not in out + err
    # The default route with a key is xAI: said before any request (none is made here).
    args = build_parser().parse_args(["models"])
    note = io.StringIO()
    client = make_client(args, note)
    assert note.getvalue() == ("agentkit: requests go to https://api.x.ai/v1 "
                               "(xai, API key from XAI_API_KEY)\n")
    assert client.base_url == "https://api.x.ai/v1"
    anyio.run(client.aclose)


# -- 4. serve, and output into a reader that stops ----------------------------------------


@pytest.mark.parametrize("port", ["-1", "70000", "abc", "8.5"])
def test_serve_on_an_invalid_port_is_one_line_exit_2(port: str) -> None:
    code, _, err = run("serve", "--port", port)
    assert code == 2
    assert err.strip() == (f"agentkit: error: argument --port: invalid port {port!r}: give a "
                           "number from 0 to 65535 (0 picks a free port) (see `agentkit serve "
                           "--help`)")


def test_serve_on_a_port_in_use_is_one_line_exit_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run("serve", "--port", str(port))
    assert code == 1
    assert err.strip() == (
        f"agentkit: error: cannot serve on 127.0.0.1:{port}: the port is in use (by another "
        "`agentkit serve`?); pick another with --port, or --port 0 for a free one")


def _into_a_closed_pipe(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run with stdout a pipe whose reader has already gone: every write fails (EPIPE)."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return script(*argv, cwd=cwd, stdout=writer)
    finally:
        os.close(writer)


@pytest.mark.parametrize("argv", [
    ["tools"], ["tools", "--json"], ["examples"], ["run", "weather", "--json"],
    ["run", "streaming_chat", "--stream"], ["run", "weather"],
])
def test_output_into_a_reader_that_has_gone_ends_quietly(tmp_path: Path, argv: list[str]) -> None:
    done = _into_a_closed_pipe(*argv, cwd=tmp_path)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert "Exception ignored" not in done.stderr
    assert done.returncode == 1


def test_output_into_head_is_cut_cleanly(tmp_path: Path) -> None:
    if not SCRIPT.exists():
        pytest.skip(f"no agentkit console script beside {sys.executable}")
    done = subprocess.run(f"'{SCRIPT}' tools | head -1", shell=True, cwd=tmp_path,
                          env=clean_env(), text=True, capture_output=True, timeout=60,
                          check=False)
    assert done.stdout.startswith("Tools, ready to use") and done.stdout.count("\n") == 1
    assert done.stderr == ""


# -- 9. plurals, the factory tools, providers, the missing key ------------------------------


def test_counts_are_pluralised() -> None:
    assert plural(1, "tool call") == "1 tool call" and plural(0, "tool call") == "0 tool calls"
    assert usage_line(RunUsage(requests=1, tool_calls=1)).startswith("[1 request, 1 tool call, ")
    assert usage_line(RunUsage(requests=2, tool_calls=3)).startswith("[2 requests, 3 tool calls, ")
    code, _, err = run("run", "weather", "Will it rain in Paris tomorrow?")
    assert code == 0, err
    assert err.splitlines()[-1].startswith("[2 requests, 1 tool call, ")
    code, _, err = run("tokenize", "Hi")
    assert code == 0 and err.splitlines()[-1] in ("1 token", *(f"{n} tokens" for n in range(2, 9)))


def test_tools_lists_the_factories_with_what_they_need() -> None:
    code, out, _ = run("tools")
    assert code == 0
    assert "calculate(expression)" in out
    for line in ("  file_tools(root, *, allow_write=False)",
                 "    needs root (str | Path): The folder the model may see.",
                 "  sqlite_tools(database, *, max_rows=200, time_limit=10.0)",
                 "  retrieval_tools(folder, *, embed, chunk_chars=800, top_k=4)",
                 "    needs embed (Embed): An async function from a list of texts"):
        assert any(candidate.startswith(line) for candidate in out.splitlines()), line
    names = [line.split("(")[0].strip() for line in out.splitlines() if line.startswith("    ")
             and "(" in line and not line.strip().startswith("needs")]
    assert {"list_files", "read_file", "search_files", "write_file", "list_tables",
            "describe_table", "run_query", "search_documents"} <= set(names)
    [write] = [line for line in out.splitlines() if line.strip().startswith("write_file(")]
    assert write.endswith("[with allow_write=True]")


def test_tools_json_marks_each_factory_tool_with_its_factory() -> None:
    code, out, _ = run("tools", "--json")
    assert code == 0
    definitions = json.loads(out)
    assert all(d["type"] == "function" and "parameters" in d["function"] for d in definitions)
    made = {d["function"]["name"]: d["factory"] for d in definitions if "factory" in d}
    assert made["run_query"]["name"] == "sqlite_tools"
    assert set(made["search_documents"]["needs"]) == {"folder", "embed"}
    assert made["write_file"]["only_with"] == "allow_write=True"
    assert "only_with" not in made["read_file"]
    plain = {d["function"]["name"] for d in definitions if "factory" not in d}
    assert {"calculate", "now", "fetch_url"} <= plain


def test_every_factory_the_tools_package_exports_is_listed() -> None:
    import agentkit.tools as bundled

    listed = {factory.name for factory in factories()}
    expected = {name for name in bundled.__all__ if name.endswith("_tools")
                and name != "bundled_tools" and name != "make_clock_tools"}
    assert expected == {"file_tools", "sqlite_tools", "retrieval_tools"} == listed


def test_the_provider_choices_are_the_providers_module_routes() -> None:
    routes = {value.name for value in vars(providers).values()
              if isinstance(value, providers.Provider)}
    routes.add(providers.cloudflare_provider("a", "g").name)
    assert set(PROVIDERS) == routes | {"auto", "sim"}


def test_provider_cloudflare_says_what_it_needs_and_builds_the_gateway_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = run("models", "--provider", "cloudflare")
    assert code == 2
    assert err.strip() == (
        "agentkit: error: --provider cloudflare needs --cloudflare-account ID (or "
        "CLOUDFLARE_ACCOUNT_ID) and --cloudflare-gateway ID (or CLOUDFLARE_GATEWAY_ID): the AI "
        "Gateway's URL is made of them")
    code, _, err = run("models", "--provider", "cloudflare", "--cloudflare-account", "acc",
                       "--cloudflare-gateway", "gw")
    assert code == 2 and "no API key for cloudflare: set XAI_API_KEY, or run offline with " \
        "--provider sim" in err
    monkeypatch.setenv("XAI_API_KEY", KEY)
    monkeypatch.setenv("CLOUDFLARE_GATEWAY_ID", "gw")
    args = build_parser().parse_args(["models", "--provider", "cloudflare",
                                      "--cloudflare-account", "acc", "--timeout", "7"])
    note = io.StringIO()
    client = make_client(args, note)
    assert client.base_url == "https://gateway.ai.cloudflare.com/v1/acc/gw/grok/v1"
    assert client.timeout == 7
    assert note.getvalue() == (f"agentkit: requests go to {client.base_url} (cloudflare, API key "
                               "from XAI_API_KEY)\n")
    assert KEY not in note.getvalue()
    anyio.run(client.aclose)


def test_provider_options_that_contradict_each_other_are_usage_errors() -> None:
    code, _, err = run("models", "--provider", "openai-compatible")
    assert code == 2 and "--provider openai-compatible needs --base-url" in err
    code, _, err = run("models", "--provider", "sim", "--base-url", "http://127.0.0.1:9/v1")
    assert code == 2 and "--provider sim runs in-process; leave out --base-url" in err
    code, _, err = run("models", "--base-url", "127.0.0.1:8000/v1")
    assert code == 2 and "--base-url must be an http:// or https:// URL" in err


def test_the_parser_offers_every_option_on_the_commands_that_send_requests() -> None:
    parser = build_parser()
    for command in (["run", "weather"], ["chat"], ["models"], ["tokenize", "x"],
                    ["batch", "p.jsonl", "--agent", "weather", "--out", "o.jsonl"],
                    ["worker", "--agent", "weather"]):
        args = parser.parse_args([*command, "--timeout", "2.5", "--provider", "cloudflare"])
        assert isinstance(args, argparse.Namespace)
        assert args.timeout == 2.5 and args.provider == "cloudflare"
    code, _, err = run("models", "--timeout", "0")
    assert code == 2 and "invalid duration '0': give a positive number of seconds" in err
