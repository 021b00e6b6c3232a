"""`agentkit models`: the table, `--json`, a server by URL, and servers without the catalog."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from decimal import Decimal

from agentkit.cli import main
from agentkit.sim import SimCore, run_in_thread
from agentkit.sim.core import SimResponse
from agentkit.sim.models import MODELS


def run(*argv: str, out: io.StringIO | None = None) -> tuple[int, str, str]:
    out = out or io.StringIO()
    err = io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def rows(out: str) -> dict[str, list[str]]:
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["ID", "ALIASES", "CONTEXT"]
    return {line.split()[0]: line.split() for line in lines[1:]}


def test_the_table_shows_aliases_windows_modalities_and_prices() -> None:
    code, out, err = run("models")
    assert code == 0, err
    assert "simulated Grok model" in err
    table = rows(out)
    assert set(table) == {m.id for m in MODELS if m.kind == "chat"}
    assert table["grok-4.3"] == ["grok-4.3", "grok-4.3-latest", "1,000,000", "text+image",
                                 "text", "1.25", "0.20", "2.50"]
    assert table["grok-4-0709"][1:] == ["grok-4,grok-4-latest", "256,000", "text+image", "text",
                                        "3.00", "0.75", "15.00"]
    assert table["grok-3-mini"][-3:] == ["0.30", "0.075", "0.50"]  # every digit the price has
    assert table["grok-4.6"][1] == "-"  # no aliases


def test_json_output_carries_exact_prices_as_strings() -> None:
    code, out, err = run("models", "--json")
    assert code == 0, err
    models = {entry["id"]: entry for entry in json.loads(out)}
    mini = models["grok-3-mini"]
    assert mini["aliases"] == ["grok-3-mini-latest", "grok-3-mini-beta", "grok-3-mini-fast"]
    assert mini["context_window"] == 131_072
    assert mini["usd_per_million_tokens"] == {"input": "0.3", "cached_input": "0.075",
                                              "image_input": "0", "output": "0.5"}
    assert Decimal(mini["usd_per_million_tokens"]["cached_input"]) == Decimal("0.075")
    assert mini["cached_prompt_text_token_price"] == 750  # the wire field, as sent


def test_a_server_by_base_url() -> None:
    with run_in_thread() as base_url:
        code, out, err = run("models", "--base-url", f"{base_url}/v1")
    assert code == 0, err
    assert "simulated" not in err
    assert "grok-4.3" in out.split()


def test_a_server_without_the_catalog_lists_ids_from_models() -> None:
    core = SimCore()
    real = core.handle

    def without_catalog(method: str, path: str, headers: Mapping[str, str],
                        body: bytes) -> SimResponse:
        if path.startswith("/v1/language-models"):
            path = "/v1/no-such-route"
        return real(method, path, headers, body)

    core.handle = without_catalog  # type: ignore[method-assign]
    with run_in_thread(core) as base_url:
        code, out, err = run("models", "--base-url", f"{base_url}/v1")
        assert code == 0, err
        assert "no /language-models route" in err
        table = rows(out)
        assert table["grok-4.3"] == ["grok-4.3", "-", "1,000,000", "-", "-", "-", "-", "-"]
        code, out, err = run("models", "--json", "--base-url", f"{base_url}/v1")
        assert code == 0, err
        listed = json.loads(out)
        assert [entry["id"] for entry in listed] == [m.id for m in MODELS]
        assert listed[0]["usd_per_million_tokens"]["input"] is None


def test_a_base_url_without_v1_is_one_line_with_the_fix() -> None:
    with run_in_thread() as base_url:
        code, _, err = run("models", "--base-url", base_url)
    assert code == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("agentkit: error: NotFoundError")
    assert f"try --base-url {base_url}/v1" in last


def test_a_server_with_no_language_models_says_so() -> None:
    with run_in_thread(SimCore(models=[m for m in MODELS if m.kind != "chat"])) as base_url:
        code, out, err = run("models", "--base-url", f"{base_url}/v1")
    assert code == 0 and out == ""
    assert "lists no language models" in err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_long_aliases_are_cut_to_fit_the_line() -> None:
    code, out, err = run("models", out=_Terminal())
    assert code == 0, err
    # A terminal whose size cannot be read counts as 80 columns.
    lines = out.splitlines()
    widest = max(len(line) for line in lines)
    assert widest < max(len(line) for line in run("models")[1].splitlines())
    assert any("…" in line for line in lines)
    assert "grok-4.3" in out.split()
