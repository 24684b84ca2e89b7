"""Where ``hx fetch`` and ``hx stream`` read their requests: SOURCE and its options, declared once.

Each option is an ``Annotated`` type a command uses as a parameter's type;
:func:`request_defaults` turns the values into the defaults of every input line.
"""

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hx.cli.options import INPUT, REQUESTS, option
from hx.errors import UsageError

if TYPE_CHECKING:
    from hx.batch.sources import RequestDefaults


class InputFormatChoice(StrEnum):
    auto = "auto"
    urls = "urls"
    ndjson = "ndjson"


Source = Annotated[
    str,
    typer.Argument(
        metavar="SOURCE",
        help="URL list or NDJSON file of requests; '-' reads stdin.",
        show_default=False,
    ),
]
Method = Annotated[
    str | None,
    option(
        "-X",
        "--method",
        metavar="METHOD",
        help="Method for lines that give none [default: GET, or POST with a body].",
        panel=REQUESTS,
    ),
]
Data = Annotated[
    str | None,
    option(
        "--data",
        metavar="TEXT|@FILE",
        help="Request body for lines that give none; '@FILE' reads a file, '@-' stdin.",
        panel=REQUESTS,
    ),
]
JsonBody = Annotated[
    str | None,
    option(
        "--json",
        metavar="JSON",
        help="JSON request body (sets Content-Type) for lines without one.",
        panel=REQUESTS,
    ),
]
BaseUrl = Annotated[
    str | None,
    option("--base-url", metavar="URL", help="Resolve relative URLs against this.", panel=INPUT),
]
InputFormat = Annotated[
    InputFormatChoice,
    option(
        "--input-format",
        metavar="auto|urls|ndjson",
        help="Input format; auto: NDJSON for .ndjson/.jsonl or a first line starting '{'.",
        panel=INPUT,
    ),
]
Journal = Annotated[
    Path | None,
    option(
        "--journal",
        metavar="FILE",
        help="Log finished requests to FILE; a re-run skips those that succeeded.",
        panel=INPUT,
    ),
]


def request_defaults(
    source: str, method: str | None, data: str | None, json_body: str | None, base_url: str | None
) -> "RequestDefaults":
    """What input lines that say nothing of them get: method, body, base URL."""
    import json

    from hx.batch.sources import RequestDefaults, check_method, check_url
    from hx.cli.common import parse_option

    if data is not None and json_body is not None:
        raise UsageError("--data and --json cannot be used together")
    content: bytes | None = None
    content_type = None
    if data is not None:
        content = _read_data_option(data, source)
    elif json_body is not None:
        parse_option(lambda: json.loads(json_body), "--json")
        content, content_type = json_body.encode(), "application/json"
    if base_url is not None:
        parse_option(lambda: check_url(base_url), "--base-url")
    if method is not None:
        method = parse_option(lambda: check_method(str(method)), "--method")
    return RequestDefaults(
        method=method, content=content, content_type=content_type, base_url=base_url
    )


def _read_data_option(data: str, source: str) -> bytes:
    if not data.startswith("@"):
        return data.encode()
    path = data[1:]
    if path == "-" and source == "-":
        raise UsageError("--data @- and SOURCE - cannot both read stdin")
    try:
        return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"--data @{path}: {exc.strerror or exc}") from exc


def output_dir(path: Path | None) -> Path | None:
    """``-O DIR``, made if it does not exist yet."""
    if path is None:
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--output-dir {path}: {exc.strerror or exc}") from exc
    return path
