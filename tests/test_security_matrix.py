"""The security matrix: each class of attack agentkit defends against, its defence, and the
tests that keep the defence true.

`CLASSES` is the specification. `docs/security.md` is rendered from it, and
`test_the_doc_matches_the_matrix` keeps the two in step (`AGENTKIT_WRITE_SECURITY=1 pytest
tests/test_security_matrix.py` rewrites the table). `test_every_listed_test_exists` makes
sure a renamed or deleted test cannot leave a class claiming a defence nobody checks.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "security.md"
BEGIN, END = "<!-- security-matrix:begin -->", "<!-- security-matrix:end -->"
MIN_TESTS = 3  # "several inputs per class": no class rests on a single test


@dataclass(frozen=True)
class AttackClass:
    name: str
    attack: str
    defence: str
    tests: tuple[str, ...]  # "file.py::test_name", relative to tests/


CLASSES = (
    AttackClass(
        "Check-then-open races in `files`",
        "A path checked and then opened by name is swapped, between the two, for a symlink "
        "leading out (the file itself, or a parent folder), so reads return outside data "
        "and writes land outside the root.",
        "Every file operation walks the path from a descriptor of the root, one component at "
        "a time, with `O_NOFOLLOW` (`tools/_safepath.py`); a symlink met on the way is read "
        "and followed by hand only while it stays inside the root. Read, write, list and "
        "search share the walk, so no name is ever resolved twice.",
        (
            "test_tools_files_races.py::test_reads_never_follow_a_file_swapped_for_a_link_out",
            "test_tools_files_races.py::test_writes_never_land_through_a_file_swapped_for_a_link_out",
            "test_tools_files_races.py::test_reads_never_follow_a_folder_swapped_for_a_link_out",
            "test_tools_files_races.py::test_writes_never_land_in_a_folder_swapped_for_a_link_out",
            "test_tools_files_races.py::test_listing_and_searching_never_enter_a_folder_swapped_for_a_link_out",
            "test_tools_files_races.py::test_entries_vanishing_during_a_listing_or_search_give_clean_results",
            "test_tools_retrieval.py::test_a_file_swapped_for_a_link_out_after_the_scan_is_not_read",
        ),
    ),
    AttackClass(
        "Static escapes from a tool's root",
        "`../` traversal, absolute paths, symlinks pointing out (or out and back in), glob "
        "patterns that climb, FIFOs that block a reader.",
        "Paths are relative to the root and checked part by part; links are followed only "
        "within the root; anything but a regular file or folder is refused without opening it.",
        (
            "test_tools_files.py::test_path_escapes_are_refused",
            "test_tools_files.py::test_the_absolute_path_of_the_root_itself_is_refused",
            "test_tools_files.py::test_symlinks_pointing_outside_are_refused",
            "test_tools_files.py::test_links_that_leave_the_root_even_to_come_back_are_refused",
            "test_tools_files.py::test_list_pattern_cannot_climb_out",
            "test_tools_files.py::test_fifos_are_refused_without_blocking",
            "test_tools_retrieval.py::test_skips_binary_hidden_and_outside_files",
        ),
    ),
    AttackClass(
        "Host paths and raw exceptions in tool errors",
        "Inputs that make the OS fail (a symlink loop, a name too long for the file system, a "
        "vanished entry while globbing, a folder where a file is expected, permissions, a "
        "root deleted under the tool) and would show the model `OSError` text with the "
        "host's absolute path.",
        "`describe_os_error` turns every errno into a short, actionable message that names the "
        "workspace-relative path only; the exception's own text is never shown.",
        (
            "test_tools_files.py::test_symlink_loops_give_a_clean_error",
            "test_tools_files.py::test_names_too_long_for_the_file_system_give_a_clean_error",
            "test_tools_files.py::test_a_folder_where_a_file_is_expected_and_back",
            "test_tools_files.py::test_a_vanished_entry_while_globbing_through_links",
            "test_tools_files.py::test_permission_and_device_errors_give_a_clean_error",
            "test_tools_files.py::test_real_permission_errors_give_a_clean_error",
            "test_tools_files.py::test_a_root_that_disappeared_gives_a_clean_error",
            "test_tools_files.py::test_describe_os_error_never_includes_the_error_text",
            "test_tools_files.py::test_unencodable_paths_and_content_are_refused_cleanly",
            "test_tools_retrieval.py::test_a_symlink_loop_is_skipped_without_leaking_a_host_path",
        ),
    ),
    AttackClass(
        "Numeric edge cases in tools",
        "Huge, tiny, subnormal, non-finite and huge-integer values given to `units` and "
        "`calculator`, and expressions built to explode (`9**9**9`, deep nesting).",
        "Inputs are checked before arithmetic and every result is checked after it; overflow, "
        "underflow to zero and non-finite results become tool retries that say what to send.",
        (
            "test_tools_units.py::test_refuses_results_beyond_the_float_range",
            "test_tools_units.py::test_refuses_results_below_the_float_range",
            "test_tools_units.py::test_refuses_integers_beyond_the_float_range",
            "test_tools_units.py::test_refuses_non_finite_values",
            "test_tools_units.py::test_extreme_values_never_raise_raw_errors",
            "test_tools_calculator.py::test_refuses_bombs_quickly",
            "test_tools_calculator.py::test_float_overflow_is_a_retry",
            "test_tools_calculator.py::test_non_finite_inputs_are_refused_where_they_are_used",
            "test_tools_calculator.py::test_edge_cases_are_retries_with_short_messages",
        ),
    ),
    AttackClass(
        "Instruction templates under abuse",
        "A template (often built from user data) that repeats strings or lists, raises huge "
        "powers, nests loops, recurses, amplifies through filters and `format`, or changes the "
        "caller's `deps` through methods (`deps.update(...)`).",
        "Jinja's `ImmutableSandboxedEnvironment`, plus checks before each costly step (sizes "
        "of `*`, `+`, `%`, `**`, `range`, growing filters and methods), a bound on the rendered "
        "text (`max_chars`), and a deadline (`max_seconds`) checked at every call, operator and "
        "loop step; each refusal names the limit and how to raise it "
        "(`Agent(instructions=PromptTemplate(..., max_range=...))`).",
        (
            "test_prompts_abuse.py::test_repetition_is_bounded",
            "test_prompts_abuse.py::test_doubling_in_a_loop_is_bounded",
            "test_prompts_abuse.py::test_integer_growth_is_bounded",
            "test_prompts_abuse.py::test_range_is_bounded",
            "test_prompts_abuse.py::test_long_running_templates_hit_the_deadline",
            "test_prompts_abuse.py::test_endless_recursion_is_a_user_error",
            "test_prompts_abuse.py::test_amplifying_filters_and_methods_are_bounded",
            "test_prompts_abuse.py::test_dict_deps_cannot_be_mutated",
            "test_prompts_abuse.py::test_object_deps_cannot_be_mutated",
            "test_prompts_abuse.py::test_the_run_context_cannot_be_mutated",
            "test_prompts_abuse.py::test_an_agent_takes_a_template_with_its_own_limits",
        ),
    ),
    AttackClass(
        "Run state and sessions under faults",
        "The process is killed while a run state or a session is written; a state file is "
        "edited by hand to call a tool the agent lacks or with arguments that fail validation.",
        "`RunState.save` writes a temporary file and renames it over the old one (a killed "
        "save's temporary is removed by the next); sessions append whole turns in one SQLite "
        "transaction; on resume, every pending call is checked against the agent's tools and "
        "their schemas before anything runs.",
        (
            "test_state_faults.py::test_a_state_saved_while_the_process_is_killed_is_never_torn",
            "test_state_faults.py::test_a_session_written_while_the_process_is_killed_keeps_whole_turns",
            "test_state_faults.py::test_threads_saving_one_state_file_at_once_never_tear_it",
            "test_run_state.py::test_states_that_cannot_be_resumed_are_refused_before_anything_runs",
            "test_run_state.py::test_bad_state_text_gives_a_clear_error",
            "test_sessions.py::test_a_damaged_row_is_named",
            "test_sessions.py::test_a_file_that_is_not_ours_is_refused_and_left_alone",
            "test_sessions.py::test_two_processes_append_to_one_file_and_lose_nothing",
        ),
    ),
    AttackClass(
        "Load on the simulator server",
        "10,000 connections dropped mid-request, slowloris heads, a 100 MB body, 2,000 "
        "concurrent streams, connection floods past the descriptor limit, malformed framing.",
        "`ServerLimits` (`agentkit serve --max-connections/--head-timeout/--body-timeout/"
        "--max-body-bytes`): a cap on connections (503 beyond), deadlines for the head and "
        "the body (408), 413 before reading an oversized body, a send timeout for peers that "
        "do not read, and an accept loop that survives `EMFILE`.",
        (
            "test_sim_server_load.py::test_ten_thousand_connections_dropped_mid_request",
            "test_sim_server_load.py::test_two_thousand_concurrent_streams",
            "test_sim_server_load.py::test_a_hundred_megabyte_body_is_refused_unread",
            "test_sim_server_load.py::test_slowloris_clients_are_cut_off_by_the_deadline",
            "test_sim_server_load.py::test_connections_beyond_the_cap_are_shed_at_once",
            "test_sim_server_load.py::test_accept_survives_running_out_of_descriptors",
            "test_sim_server_load.py::test_malformed_framing_is_refused_not_logged",
            "test_sim_server_load.py::test_agentkit_serve_applies_the_limits_it_is_given",
        ),
    ),
    AttackClass(
        "Requests to internal addresses through `http_fetch`",
        "URLs naming loopback, private and metadata addresses in any spelling (decimal, octal, "
        "IPv6-mapped), hostnames resolving to them, and redirects into them.",
        "Every address is parsed, resolved once and checked against the blocked networks; the "
        "connection goes to the checked address (pinned, with the name in `Host` and SNI), "
        "and each redirect is checked again.",
        (
            "test_tools_http_fetch.py::test_internal_ip_literals_are_refused",
            "test_tools_http_fetch.py::test_malformed_numeric_hosts_are_refused",
            "test_tools_http_fetch.py::test_hostname_resolving_to_loopback_is_refused",
            "test_tools_http_fetch.py::test_redirects_to_internal_addresses_are_refused",
            "test_tools_http_fetch.py::test_connects_to_the_checked_address_with_the_name_in_host",
        ),
    ),
    AttackClass(
        "Writes and runaway queries through the SQL tools",
        "Statements that write, attach, or change pragmas, hidden behind comments or several "
        "statements; queries that never end.",
        "A read-only connection, a statement splitter, SQLite's authorizer as a second line, "
        "and a progress handler that stops long queries.",
        (
            "test_tools_sqlite.py::test_writes_and_tricks_are_refused",
            "test_tools_sqlite.py::test_the_authorizer_backs_up_the_keyword_check",
            "test_tools_sqlite.py::test_runaway_queries_are_stopped",
            "test_tools_sqlite.py::test_the_database_file_is_not_modified",
        ),
    ),
    AttackClass(
        "Hostile model and tool output",
        "A model told (by injected text) to call tools outside its toolset; tools returning "
        "huge, unprintable or broken-UTF-8 results.",
        "Only the run's tools can be called, unknown calls spend the retry budget; results are "
        "truncated to a limit, cleaned to valid UTF-8, and an unprintable one becomes an "
        "error result.",
        (
            "test_hostile_output.py::test_injected_instructions_cannot_call_a_tool_outside_the_toolset",
            "test_hostile_output.py::test_unknown_tool_calls_still_spend_the_retry_budget",
            "test_hostile_output.py::test_huge_results_are_truncated_and_not_kept",
            "test_hostile_output.py::test_broken_text_in_results_reaches_the_model_as_valid_utf8",
            "test_hostile_output.py::test_an_unprintable_result_is_an_error_result_not_a_crash",
        ),
    ),
    AttackClass(
        "API key leaks",
        "The key showing in a repr, an error, an error body the server echoes, a log line, a "
        "recorded cassette or the CLI's output and tracebacks.",
        "`Authorization` and the key itself are redacted at every place text leaves the "
        "client: reprs, errors, logs, cassettes and the CLI.",
        (
            "test_secrets.py::test_reprs_of_client_agent_result_and_resources_hide_the_key",
            "test_secrets.py::test_a_key_echoed_in_an_error_body_is_not_in_the_error",
            "test_secrets.py::test_debug_logs_across_a_run_with_retries_hide_the_key",
            "test_secrets.py::test_a_recorded_cassette_scrubs_an_echoed_key",
            "test_secrets.py::test_cli_debug_traceback_hides_a_key_the_server_echoes",
        ),
    ),
)


@cache
def _tests_in(file: str) -> frozenset[str]:
    tree = ast.parse((ROOT / "tests" / file).read_text(encoding="utf-8"))
    return frozenset(
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
    )


def render_table() -> str:
    lines = []
    for number, attack_class in enumerate(CLASSES, 1):
        lines += [
            f"### {number}. {attack_class.name}",
            "",
            f"**Attack.** {attack_class.attack}",
            "",
            f"**Defence.** {attack_class.defence}",
            "",
            "**Tests.**",
            "",
        ]
        lines += [f"- `tests/{test}`" for test in attack_class.tests]
        lines.append("")
    return "\n".join(lines).rstrip("\n")


def _section(text: str) -> re.Match[str]:
    match = re.search(rf"{re.escape(BEGIN)}\n(.*?)\n{re.escape(END)}", text, re.DOTALL)
    assert match, f"{DOC} lost its {BEGIN} ... {END} markers"
    return match


@pytest.mark.parametrize("attack_class", CLASSES, ids=lambda c: c.name)
def test_every_listed_test_exists(attack_class: AttackClass) -> None:
    assert len(attack_class.tests) >= MIN_TESTS, f"{attack_class.name}: too few tests"
    assert len(set(attack_class.tests)) == len(attack_class.tests)
    for test in attack_class.tests:
        file, name = test.split("::")
        assert name in _tests_in(file), f"{attack_class.name}: tests/{test} does not exist"


def test_the_doc_matches_the_matrix() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = render_table()
    if os.environ.get("AGENTKIT_WRITE_SECURITY") == "1":
        section = _section(text)
        text = text[: section.start(1)] + table + text[section.end(1) :]
        DOC.write_text(text, encoding="utf-8")
    assert _section(text).group(1) == table, (
        "docs/security.md is out of date: AGENTKIT_WRITE_SECURITY=1 pytest "
        "tests/test_security_matrix.py rewrites it"
    )
