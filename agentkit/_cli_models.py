"""`agentkit models`: the server's language models, their aliases, windows and prices.

The table comes from `GET /v1/language-models` (xAI and the simulator). A server without
that route (most OpenAI-compatible ones) answers 404: the ids of `GET /v1/models` are
listed instead, with a note on stderr, since that is all such a server says. Prices are in
dollars per million tokens, exact (`Decimal`); `--json` prints them as strings so that no
float rounding creeps in.
"""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from typing import Any, TextIO

from ._cli_client import make_client
from ._cli_render import is_tty, terminal_size
from .errors import NotFoundError
from .types.models import LanguageModel

__all__ = ["list_models", "model_record", "price_per_million"]

_MILLION = Decimal(1_000_000)
_HEADER = ("ID", "ALIASES", "CONTEXT", "INPUT", "OUTPUT", "$/1M IN", "$/1M CACHED", "$/1M OUT")
# Numbers read best right-aligned: the context window and the three prices.
_RIGHT = frozenset({2, 5, 6, 7})


def price_per_million(per_token: Decimal | None) -> Decimal | None:
    """Dollars per million tokens from dollars per token, exact; None stays None."""
    return None if per_token is None else (per_token * _MILLION).normalize()


def _money(value: Decimal | None) -> str:
    if value is None:
        return "-"
    # Cents at least ("3.00"), every digit beyond that the price has ("0.075").
    exponent = value.as_tuple().exponent
    digits = max(2, -exponent) if isinstance(exponent, int) else 2
    return f"{value:.{digits}f}"


def _window(tokens: int | None) -> str:
    return "-" if tokens is None else f"{tokens:,}"


def _row(model: LanguageModel) -> tuple[str, ...]:
    return (
        model.id,
        ",".join(model.aliases) or "-",
        _window(model.context_window),
        "+".join(model.input_modalities) or "-",
        "+".join(model.output_modalities) or "-",
        _money(price_per_million(model.input_usd_per_token)),
        _money(price_per_million(model.cached_input_usd_per_token)),
        _money(price_per_million(model.output_usd_per_token)),
    )


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def model_record(model: LanguageModel) -> dict[str, Any]:
    """What `--json` prints for one model: the wire fields as sent, plus the context window
    and the prices in dollars per million tokens (decimal strings)."""
    return {
        **model.model_dump(mode="json"),
        "context_window": model.context_window,
        "usd_per_million_tokens": {
            "input": _text(price_per_million(model.input_usd_per_token)),
            "cached_input": _text(price_per_million(model.cached_input_usd_per_token)),
            "image_input": _text(price_per_million(model.image_input_usd_per_token)),
            "output": _text(price_per_million(model.output_usd_per_token)),
        },
    }


def _table(rows: list[tuple[str, ...]], columns: int | None) -> str:
    """Aligned columns; on a terminal of `columns` the aliases are cut to fit the line (in
    a pipe nothing is cut, for grep)."""
    widths = [max(len(row[i]) for row in [_HEADER, *rows]) for i in range(len(_HEADER))]
    if columns is not None:
        spare = columns - 1 - (sum(widths) + 2 * (len(widths) - 1))
        if spare < 0:
            widths[1] = max(len(_HEADER[1]), widths[1] + spare)
            rows = [(row[0], _clip(row[1], widths[1]), *row[2:]) for row in rows]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.rjust(widths[i]) if i in _RIGHT else cell.ljust(widths[i])
                         for i, cell in enumerate(cells)).rstrip()

    return "\n".join([line(_HEADER), *(line(row) for row in rows)])


async def list_models(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """`agentkit models [--json]`: one line per model, or a JSON list."""
    async with make_client(args, err) as client:
        args.requests_to = client.base_url
        try:
            models = await client.models.language_models()
        except NotFoundError as missing:
            try:
                ids = [model.id for model in (await client.models.list()).data]
            except NotFoundError:
                raise missing from None
            print("agentkit: the server has no /language-models route: ids only, from "
                  "/models", file=err)
            models = [LanguageModel(id=model_id) for model_id in ids]
    if args.json:
        print(json.dumps([model_record(m) for m in models], indent=2, ensure_ascii=False),
              file=out)
        return 0
    if not models:
        print("agentkit: the server lists no language models", file=err)
        return 0
    columns = terminal_size(out).columns if is_tty(out) else None
    print(_table([_row(model) for model in models], columns), file=out)
    return 0
