"""Where the command line sends requests, said in one line, and its failures made readable.

`make_client` builds the client `--base-url`, `--provider` and the environment ask for and says
on stderr where requests will go (never the key itself). `explain` turns a failed request
into one line with the likely fix: an `https://` URL for a plain-HTTP server, a base URL
without `/v1`, no server listening, a response slower than `--timeout`.
"""

from __future__ import annotations

import argparse
import os
import ssl
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

from ._cli_parser import CommandLineError
from ._model import ChatModel
from .client import SIMULATED_NOTICE, GrokClient
from .client._providers import COMETAPI, OPENROUTER, XAI, Provider, cloudflare_provider
from .errors import APIConnectionError, APITimeoutError, ConfigurationError, NotFoundError

__all__ = ["SIM_CHOSEN_NOTICE", "describe_client", "explain", "make_client", "uses_sim"]

SIM_CHOSEN_NOTICE = "agentkit: --provider sim: using the local simulated Grok model (offline)"
"""Said instead of SIMULATED_NOTICE when the simulator was asked for: a key may well be set."""

_PRESETS: dict[str, Provider] = {XAI.name: XAI, OPENROUTER.name: OPENROUTER,
                                 COMETAPI.name: COMETAPI}
# OpenSSL's reasons for a "TLS" answer that is not TLS at all (a plain-HTTP server's reply),
# across OpenSSL versions.
_NOT_TLS_REASONS = frozenset({"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "UNKNOWN_PROTOCOL",
                              "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST"})


def make_client(args: argparse.Namespace, err: TextIO) -> GrokClient:
    """The client the command line asks for, after one line on `err` saying where it sends.

    Raises:
        CommandLineError: Options that contradict each other, or a malformed `--base-url`.
        ConfigurationError: A real provider without its API key (naming `--provider sim`).
    """
    provider: str = args.provider
    options: dict[str, Any] = {}
    if args.timeout is not None:
        options["timeout"] = args.timeout
    http = getattr(args, "http", "httpx2")
    if http != "httpx2":
        options["http"] = http
    if args.base_url:
        return _by_url(args.base_url, provider, options, err)
    if provider == "openai-compatible":
        raise CommandLineError("--provider openai-compatible needs --base-url, e.g. "
                               "--base-url http://127.0.0.1:8000/v1")
    if provider == "sim" or (provider == "auto" and not os.environ.get("XAI_API_KEY")):
        if http != "httpx2":
            raise CommandLineError(
                f"--http {http} sends over sockets, and the simulated model is in-process: "
                "serve it (`agentkit serve`) and add --base-url http://127.0.0.1:8000/v1"
            )
        print(SIM_CHOSEN_NOTICE if provider == "sim" else SIMULATED_NOTICE, file=err)
        return GrokClient.simulated(**options)
    if provider == "auto":
        provider = XAI.name
    if provider == "cloudflare":
        client = _cloudflare(args, options)
    else:
        preset = _PRESETS[provider]
        _require_key(preset)
        client = (GrokClient.openrouter(**options) if preset is OPENROUTER
                  else GrokClient(provider=preset, **options))
    print(f"agentkit: requests go to {describe_client(client)}", file=err)
    return client


def _by_url(url: str, provider: str, options: dict[str, Any], err: TextIO) -> GrokClient:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CommandLineError(f"--base-url must be an http:// or https:// URL such as "
                               f"http://127.0.0.1:8000/v1, got {url!r}")
    if provider in ("sim", "cloudflare"):
        why = ("runs in-process" if provider == "sim"
               else "builds its URL from --cloudflare-account and --cloudflare-gateway")
        raise CommandLineError(f"--provider {provider} {why}; leave out --base-url")
    if provider in _PRESETS:
        # That provider's key, model names and headers, at another address (a proxy).
        preset = _PRESETS[provider]
        _require_key(preset)
        client = (GrokClient.openrouter(base_url=url, **options) if preset is OPENROUTER
                  else GrokClient(provider=preset, base_url=url, **options))
    else:
        client = GrokClient.openai_compatible(url, os.environ.get("XAI_API_KEY") or None,
                                              **options)
    print(f"agentkit: requests go to {describe_client(client)}", file=err)
    return client


def _cloudflare(args: argparse.Namespace, options: dict[str, Any]) -> GrokClient:
    account = args.cloudflare_account or os.environ.get("CLOUDFLARE_ACCOUNT_ID")
    gateway = args.cloudflare_gateway or os.environ.get("CLOUDFLARE_GATEWAY_ID")
    missing = [what for what, value in (
        ("--cloudflare-account ID (or CLOUDFLARE_ACCOUNT_ID)", account),
        ("--cloudflare-gateway ID (or CLOUDFLARE_GATEWAY_ID)", gateway),
    ) if not value]
    if missing:
        raise CommandLineError(f"--provider cloudflare needs {' and '.join(missing)}: the "
                               "AI Gateway's URL is made of them")
    assert account is not None  # narrowed by `missing`
    assert gateway is not None
    _require_key(cloudflare_provider(account, gateway))
    return GrokClient.cloudflare(account_id=account, gateway_id=gateway, **options)


def _require_key(provider: Provider) -> None:
    """Refuse early, with both fixes: the one for the command line and the one for code."""
    variable = provider.api_key_env
    if variable and not os.environ.get(variable):
        raise ConfigurationError(
            f"no API key for {provider.name}: set {variable}, or run offline with "
            "--provider sim (in code: pass api_key=..., or use GrokClient.simulated())"
        )


def uses_sim(client: GrokClient) -> bool:
    """Whether `client` is wired to the in-process simulator (it sends nothing anywhere)."""
    # GrokClient.simulated() names this host, which no network resolves.
    return urlsplit(client.base_url).netloc == "simulated.grok.local"


def describe_client(client: GrokClient | ChatModel) -> str:
    """Where `client` sends requests, to print: its URL, provider and where its key comes
    from. The key itself is never part of it."""
    if not isinstance(client, GrokClient):
        return f"the {type(client).__name__} model it was given (no HTTP)"
    if uses_sim(client):
        return "the local simulated Grok model (in-process, offline)"
    provider = client.provider
    variable = provider.api_key_env or "XAI_API_KEY"
    # The headers say whether a key is sent; the client has no other public trace of it.
    if "authorization" not in client._headers:
        key = "no API key"
    elif os.environ.get(variable):
        key = f"API key from {variable}"
    else:
        key = "API key set in code"
    extra = ("; gateway token from CF_AIG_TOKEN"
             if provider.name == "cloudflare" and os.environ.get("CF_AIG_TOKEN") else "")
    return f"{client.base_url} ({provider.name}, {key}{extra})"


def explain(error: BaseException, base_url: str | None) -> str:
    """One line for a failed command: the error, then the likely fix where one is known.

    Args:
        error: What ended the command.
        base_url: The base URL requests went to, when known, to check it for a missing `/v1`.
    """
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, APITimeoutError):
        return f"{text} (on the command line: --timeout SECONDS)"
    if isinstance(error, APIConnectionError):
        url = error.url or base_url or ""
        if _not_tls(error) and url.startswith("https://"):
            plain = _with_scheme(base_url if base_url and base_url.startswith("https://")
                                 else url, "http")
            return (f"APIConnectionError: {_origin(url)} answered in plain HTTP, not TLS: "
                    f"use http://, e.g. --base-url {plain}")
        if "connection attempts failed" in str(error).lower() or _refused(error):
            return (f"{text}; is a server listening there? (`agentkit serve` runs one at "
                    "http://127.0.0.1:8000/v1)")
        return text
    if isinstance(error, NotFoundError) and base_url and not _ends_in_v1(base_url):
        fixed = base_url.rstrip("/") + "/v1"
        return f"{text} (the base URL {base_url} has no /v1 path: try --base-url {fixed})"
    return text


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _not_tls(error: BaseException) -> bool:
    for link in _chain(error):
        if isinstance(link, ssl.SSLError) and str(getattr(link, "reason", "")) in _NOT_TLS_REASONS:
            return True
    # The chain is cut where its text held a secret; the message still names the reason.
    text = str(error).upper().replace(" ", "_")
    return any(reason in text for reason in _NOT_TLS_REASONS)


def _refused(error: BaseException) -> bool:
    return any(isinstance(link, ConnectionRefusedError) for link in _chain(error))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _with_scheme(url: str, scheme: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def _ends_in_v1(url: str) -> bool:
    return urlsplit(url).path.rstrip("/").endswith("/v1")
