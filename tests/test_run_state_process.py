"""A run paused in one process is approved and resumed in another, fresh one: the state file
is all that crosses, and the approved call runs exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

APP = textwrap.dedent('''
    import json
    import sys
    from pathlib import Path

    from agentkit import Agent, GrokClient, RunState, tool
    from agentkit.sim.reply import SimReply, SimToolCall

    command, state_file, ledger = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])


    @tool(requires_approval=True)
    def refund(order_id: int, amount: float) -> str:
        """Refund an order.

        Args:
            order_id: The order.
            amount: Dollars.
        """
        with ledger.open("a") as file:
            file.write(f"refund {order_id} {amount}\\n")
        return f"refunded ${amount:g}"


    @tool
    def lookup(order_id: int) -> str:
        """Look an order up.

        Args:
            order_id: The order.
        """
        with ledger.open("a") as file:
            file.write(f"lookup {order_id}\\n")
        return "order 7: $40, delivered"


    def model(body):
        results = [m["content"] for m in body["messages"] if m["role"] == "tool"]
        if not results:
            return SimReply(tool_calls=(
                SimToolCall("lookup", '{"order_id": 7}'),
                SimToolCall("refund", '{"order_id": 7, "amount": 40}'),
            ))
        return SimReply(content=" / ".join(results))


    agent = Agent("grok-4", name="support", tools=[lookup, refund], client=GrokClient.simulated(model))
    if command == "start":
        result = agent.run_sync("Refund order 7")
        result.state.save(state_file)
        print(json.dumps([[i.tool_name, i.args] for i in result.interruptions]))
    else:
        state = RunState.load(state_file)
        state.approve_all()
        result = agent.run_sync(state=state)
        print(json.dumps({"output": result.output, "requests": result.usage.requests,
                          "tool_calls": result.usage.tool_calls}))
''')


def run_app(app: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(app), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_paused_run_resumes_in_a_fresh_process(tmp_path: Path) -> None:
    app = tmp_path / "support_app.py"
    app.write_text(APP)
    state_file, ledger = tmp_path / "state.json", tmp_path / "ledger.txt"

    waiting = json.loads(run_app(app, "start", str(state_file), str(ledger)))
    assert waiting == [["refund", {"order_id": 7, "amount": 40}]]
    assert ledger.read_text().splitlines() == ["lookup 7"]
    assert json.loads(state_file.read_text())["version"] == 1

    finished = json.loads(run_app(app, "resume", str(state_file), str(ledger)))
    assert finished == {"output": "order 7: $40, delivered / refunded $40", "requests": 2, "tool_calls": 2}
    assert ledger.read_text().splitlines() == ["lookup 7", "refund 7 40.0"]
