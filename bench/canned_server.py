"""A tiny HTTP/1.1 server with canned chat answers, for benchmarks of the client alone.

Run as a separate process so that its CPU is not counted against the client:
`python bench/canned_server.py PORT_FILE [LATENCY_MS]`. It writes the port it bound to
PORT_FILE and serves until killed. Keep-alive, Content-Length bodies and chunked SSE.
"""

from __future__ import annotations

import asyncio
import json
import sys

CHAT = json.dumps({
    "id": "bench-1", "object": "chat.completion", "created": 1, "model": "grok-4-0709",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "The forecast for Paris is sunny with a high of 21 C.",
                 "tool_calls": None}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 120, "completion_tokens": 14, "total_tokens": 300,
              "prompt_tokens_details": {"text_tokens": 120, "cached_tokens": 100},
              "completion_tokens_details": {"reasoning_tokens": 166}, "num_sources_used": 0,
              "cost_in_usd_ticks": 1399000},
    "system_fingerprint": "fp_2a885414fb",
}).encode()

_CHUNK = {"id": "bench-1", "object": "chat.completion.chunk", "created": 1, "model": "grok-4-0709"}
_WORDS = ["The", "forecast", "for", "Paris", "is", "sunny", "with", "a", "high", "of", "21", "C", "."]
STREAM = b"".join(
    [f"data: {json.dumps({**_CHUNK, 'choices': [{'index': 0, 'delta': {'role': 'assistant', 'content': ''}}]})}\n\n".encode()]
    + [f"data: {json.dumps({**_CHUNK, 'choices': [{'index': 0, 'delta': {'content': w + ' '}}]})}\n\n".encode() for w in _WORDS]
    + [f"data: {json.dumps({**_CHUNK, 'choices': [{'index': 0, 'delta': {}, 'finish_reason': 'stop'}]})}\n\n".encode(),
       f"data: {json.dumps({**_CHUNK, 'choices': [], 'usage': {'prompt_tokens': 120, 'completion_tokens': 14, 'total_tokens': 134}})}\n\n".encode(),
       b"data: [DONE]\n\n"]
)


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, latency: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length) if length else b""
            if latency:
                await asyncio.sleep(latency)
            if json.loads(body or b'{}').get("stream"):
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                             b"content-length: " + str(len(STREAM)).encode() + b"\r\n\r\n" + STREAM)
            else:
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             b"content-length: " + str(len(CHAT)).encode() + b"\r\n\r\n" + CHAT)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port_file: str, latency_ms: float) -> None:
    server = await asyncio.start_server(lambda r, w: handle(r, w, latency_ms / 1000), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with open(port_file, "w") as handle_file:
        handle_file.write(str(port))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 0.0))
