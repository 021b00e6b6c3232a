"""The command line, in-process through `main(argv)`: output, exit codes, error lines."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from agentkit.cli import main
from agentkit.sim import SimCore, SimReply, SimulatedModel, run_in_thread


def run(*argv: str, lines: list[str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    feed: Iterator[str] = iter(lines or [])
    code = main(list(argv), stdout=out, stderr=err, read_line=lambda: next(feed, None))
    return code, out.getvalue(), err.getvalue()


def test_run_an_example_offline_prints_answer_tool_calls_and_usage() -> None:
    code, out, err = run("run", "weather", "Will it rain in Paris tomorrow?")
    assert code == 0, err
    assert "simulated Grok model" in err
    assert "-> get_forecast(" in err and "<- get_forecast:" in err
    assert "Paris" in out
    assert "requests" in err.splitlines()[-1]


def test_run_json_prints_the_whole_result() -> None:
    code, out, err = run("run", "weather", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["usage"]["requests"] >= 2
    assert result["output"]["city"] == "Paris"
    assert [m["role"] for m in result["messages"]][:3] == ["system", "user", "assistant"]


def test_run_streams_text() -> None:
    code, out, err = run("run", "streaming_chat", "--stream")
    assert code == 0, err
    assert out.strip()


def test_run_module_attr_target() -> None:
    code, out, err = run("run", "--factory", "agentkit.examples.math_tutor:build_agent",
                         "What is (3 + 4) * 12?")
    assert code == 0, err
    assert "84" in out
    code, _, err = run("run", "agentkit.examples.math_tutor:build_agent", "What is 2 + 2?")
    assert code == 2 and "pass --factory" in err


def test_unknown_example_is_a_usage_error_naming_the_choices() -> None:
    code, _, err = run("run", "nope", "hi")
    assert code == 2
    assert err.startswith("agentkit: error: no example named 'nope'; choose one of: weather")
    assert "Traceback" not in err


def test_bad_module_attr_is_a_usage_error() -> None:
    assert run("run", "no.such.module:agent", "hi")[0] == 2
    assert run("run", "agentkit.cli:nothing", "hi")[0] == 2
    code, _, err = run("run", "--factory", "agentkit.cli:__all__", "hi")
    assert code == 2 and "not callable" in err


def test_argparse_errors_exit_2() -> None:
    assert run()[0] == 2
    assert run("frobnicate")[0] == 2


def test_examples_lists_every_example_with_a_summary() -> None:
    code, out, _ = run("examples")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert names[0] == "weather" and "sql_analyst" in names
    assert all(len(line.split(maxsplit=1)) == 2 for line in out.splitlines())


def test_tools_lists_and_prints_json_schemas() -> None:
    code, out, _ = run("tools")
    assert code == 0 and "calculate(" in out
    code, out, _ = run("tools", "--json")
    definitions = json.loads(out)
    assert all(d["type"] == "function" and "parameters" in d["function"] for d in definitions)


def test_models_and_tokenize_on_the_simulator() -> None:
    code, out, _ = run("models")
    assert code == 0 and "grok-4.3" in out.split()
    code, out, err = run("tokenize", "Hello world")
    assert code == 0 and json.loads(out)[0].startswith("Hello") and "tokens" in err


def test_commands_work_against_a_server_by_base_url() -> None:
    with run_in_thread() as base_url:
        code, out, err = run("models", "--base-url", f"{base_url}/v1")
        assert code == 0, err
        assert "simulated" not in err
        assert "grok-4.3" in out.split()


def test_failed_run_is_one_line_with_exit_1() -> None:
    # A server that is not there: a connection error, reported in one line.
    code, _, err = run("models", "--base-url", "http://127.0.0.1:9/v1")
    assert code == 1
    assert err.strip().splitlines()[-1].startswith("agentkit: error: APIConnectionError")
    assert "Traceback" not in err
    code, _, err = run("--debug", "models", "--base-url", "http://127.0.0.1:9/v1")
    assert code == 1 and "Traceback" in err


@pytest.mark.parametrize(("provider", "variable"), [
    ("xai", "XAI_API_KEY"), ("openrouter", "OPENROUTER_API_KEY"), ("cometapi", "COMETAPI_KEY"),
])
def test_missing_key_for_a_real_provider_says_which_variable(provider: str, variable: str) -> None:
    code, _, err = run("models", "--provider", provider)
    assert code == 2
    # Both fixes: the one for the command line, and the one for code.
    assert err.strip() == (
        f"agentkit: error: ConfigurationError: no API key for {provider}: set {variable}, or "
        "run offline with --provider sim (in code: pass api_key=..., or use "
        "GrokClient.simulated())"
    )


def test_chat_keeps_history_until_an_empty_line() -> None:
    seen: list[list[str]] = []
    model = SimulatedModel()

    def recording(request: Mapping[str, Any]) -> SimReply:
        seen.append([str(m.get("content")) for m in request["messages"] if m["role"] == "user"])
        return model(request)

    with run_in_thread(SimCore(recording)) as base_url:
        code, out, err = run("chat", "--base-url", f"{base_url}/v1",
                             lines=["Hello there", "What did I just say?", ""])
    assert code == 0, err
    assert len([line for line in out.splitlines() if line.strip()]) >= 2
    # The second turn is sent with the first: the REPL keeps the conversation.
    assert seen == [["Hello there"], ["Hello there", "What did I just say?"]]


def test_serve_checks_its_limits_in_one_line() -> None:
    code, _, err = run("serve", "--port", "0", "--max-connections", "0")
    assert code == 2
    assert "max_connections must be at least 1" in err and "Traceback" not in err


def test_run_trace_prints_the_span_tree_on_stderr() -> None:
    pytest.importorskip("opentelemetry.sdk", reason="the otel extra")
    code, out, err = run("run", "weather", "Will it rain in Paris tomorrow?", "--trace")
    assert code == 0, err
    tree = [line for line in err.splitlines() if line.startswith(("invoke_agent", "├─", "└─"))]
    assert tree[0].startswith("invoke_agent ")
    assert [line.split("  ")[0] for line in tree[1:]] == [
        "├─ chat grok-4.3", "├─ execute_tool get_forecast", "└─ chat grok-4.3",
    ]
    assert "invoke_agent" not in out
