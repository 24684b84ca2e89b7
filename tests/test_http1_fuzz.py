"""hx's HTTP/1.1 response parser, run differentially against h11 and llhttp (httptools).

Responses to a GET come from a grammar (valid ones, with the pieces parsers
disagree on mixed in) and from byte-level mutations of those; hx gets them in
random splits, through hx.net.http1_parser.ResponseReader as hx.net.http1 uses
it, then the end of the stream. h11 runs as a client-side Connection that sent
the GET; llhttp as an HttpResponseParser fed byte by byte (which tells where a
message ends). Properties:

- when both oracles accept a response, hx decodes the same status, headers and
  body (except statuses 600-999, which both take and hx refuses: RFC 9110 15);
- when both reject it, hx rejects it or does not reuse the connection;
- hx never runs two responses together: when it would reuse the connection,
  every oracle that accepted the response ended it at the same byte, with the
  same body, and would keep the connection too.

CI runs a few hundred examples, derandomized. A long run with fresh random ones
(``--timeout 0``: past pytest's two-minute limit):

    HX_FUZZ_EXAMPLES=100000 python -m pytest -q --timeout 0 --hypothesis-show-statistics \
        tests/test_http1_fuzz.py -k agrees
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import h11
import httptools
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hx.net.http1_parser import ProtocolError, ResponseReader

_EXAMPLES = int(os.environ.get("HX_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=_EXAMPLES or 300,
    derandomize=not _EXAMPLES,  # CI: the same examples every run
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Headers = list[tuple[bytes, bytes]]
_FRAMING = (b"content-length", b"transfer-encoding")


@dataclass
class Outcome:
    """What one parser made of a response (the final one, after any 1xx)."""

    accepted: bool = False
    """A whole response: ended by its framing, or by the close where that is its framing."""
    rejected: bool = False
    status: int = 0
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    ended_at: int | None = None
    """Bytes of input up to the end of the response, if it ended before the close."""
    keep_alive: bool = False
    """The parser would send another request on the connection."""
    http_1_0: bool = False


# -- the three parsers ---------------------------------------------------------


def run_hx(data: bytes, cuts: list[int]) -> Outcome:
    body: list[bytes] = []
    reader = ResponseReader(body.append)
    reader.start(b"GET")
    outcome = Outcome()
    try:
        for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True):
            reader.feed(data[start:end])
        if reader.ended:
            outcome.ended_at = len(data)  # bytes after its end, if any, spoil reuse
            outcome.keep_alive = reader.reusable
        else:
            reader.feed_eof()
    except ProtocolError:
        return Outcome(rejected=True)
    assert reader.head is not None
    outcome.accepted = True
    outcome.status, outcome.headers = reader.head.status, reader.head.headers
    outcome.body = b"".join(body)
    return outcome


def run_h11(data: bytes) -> Outcome:
    connection = h11.Connection(h11.CLIENT)
    connection.send(h11.Request(method="GET", target="/", headers=[("Host", "example.test")]))
    connection.send(h11.EndOfMessage())
    connection.receive_data(data)
    outcome = Outcome()
    body = bytearray()
    closed = False
    try:
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA and not closed:
                connection.receive_data(b"")  # the server closes
                closed = True
            elif isinstance(event, h11.Response):
                outcome.status, outcome.headers = event.status_code, list(event.headers)
                outcome.http_1_0 = event.http_version == b"1.0"
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            elif not isinstance(event, h11.InformationalResponse):
                return Outcome()  # the connection closed before the response ended
    except h11.RemoteProtocolError:
        return Outcome(rejected=True)
    outcome.accepted = True
    outcome.body = bytes(body)
    if not closed:
        leftover, _ = connection.trailing_data
        outcome.ended_at = len(data) - len(leftover)
        outcome.keep_alive = connection.their_state is h11.DONE
    return outcome


class _Llhttp:
    """httptools callbacks: the messages of one response, 1xx ones skipped."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.outcome = Outcome()
        self.final = False
        self.ended = False

    def on_message_begin(self) -> None:
        self.outcome.headers = []

    def on_header(self, name: bytes, value: bytes) -> None:
        self.outcome.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.outcome.status = self.parser.get_status_code()
        self.final = self.outcome.status >= 200

    def on_body(self, body: bytes) -> None:
        self.outcome.body += body

    def on_message_complete(self) -> None:
        if self.final:
            self.ended = True
            self.outcome.keep_alive = self.parser.should_keep_alive()


def run_llhttp(data: bytes) -> Outcome:
    callbacks = _Llhttp()
    for index in range(len(data)):
        try:
            callbacks.parser.feed_data(data[index : index + 1])
        except httptools.HttpParserError:  # also HttpParserUpgrade: a 101
            return Outcome(rejected=True)
        if callbacks.ended:
            callbacks.outcome.accepted = True
            callbacks.outcome.ended_at = index + 1
            return callbacks.outcome
    # httptools cannot be told of the close: a body delimited by it is whole, if
    # the head has come and said nothing of a length.
    outcome = callbacks.outcome
    names = {name.lower() for name, _ in outcome.headers}
    outcome.accepted = callbacks.final and not names & set(_FRAMING)
    return outcome


# -- the properties ------------------------------------------------------------


def comparable(headers: Headers) -> Headers:
    """Names lower-cased, values trimmed as RFC 9110 5.5 says (llhttp keeps trailing
    whitespace); Content-Length and Transfer-Encoding left out: h11 rewrites them,
    and the body shows what they said."""
    return [
        (name.lower(), value.strip(b" \t"))
        for name, value in headers
        if name.lower() not in _FRAMING
    ]


def check(data: bytes, hx: Outcome, h11_: Outcome, llhttp: Outcome) -> None:
    if h11_.accepted and llhttp.accepted and h11_.status <= 599:
        assert hx.accepted, "both oracles accept it, hx does not"
        assert (hx.status, hx.body) == (h11_.status, h11_.body)
        assert comparable(hx.headers) == comparable(h11_.headers)
    if h11_.rejected and llhttp.rejected:
        assert not hx.keep_alive, "both oracles refuse it, hx would reuse the connection"
    if hx.keep_alive:
        for name, oracle in (("h11", h11_), ("llhttp", llhttp)):
            if oracle.rejected:
                continue
            # h11 never keeps an HTTP/1.0 connection (its documented choice).
            keep_alive = oracle.keep_alive or (oracle is h11_ and oracle.http_1_0)
            where = (oracle.ended_at, oracle.body, keep_alive)
            assert where == (len(data), hx.body, True), f"{name} reads this response otherwise"


# -- responses -----------------------------------------------------------------

Choices = tuple[list[bytes], list[bytes]]
"""Plain values, and near misses of the classes parsers disagree on: control bytes,
vertical tab and form feed, empty lists, folds, stray spaces, statuses out of range."""

_TEXT: Choices = (
    [b"", b"x", b"a b", b"\xe9t\xe9", b"a\tb", b"  padded  ", b"a,b"],
    [b"a\x01b", b"\x7f", b"\x0b"],
)
_CONNECTION: Choices = (
    [b"close", b"keep-alive", b"Keep-Alive", b"upgrade, close", b"foo"],
    [b"close\x0b", b""],
)
_LENGTH: Choices = ([b"%d", b"%d, %d", b"0%d"], [b"\x0b%d", b"%d\x0c", b"+%d", b"%d ", b"%d, 1"])
_CODINGS: Choices = (
    [b"chunked", b"Chunked", b"gzip, chunked", b" chunked ", b", chunked", b"chunked, gzip"],
    [b"", b",", b"chunked\x0b", b"\x0cchunked", b"chunked;a=1"],
)
_FOLD: Choices = ([b""], [b" ", b"\t"])
"""A line break and this put before a value fold it onto a line of its own."""
_STATUS: Choices = (
    [b"200", b"201", b"204", b"206", b"301", b"304", b"404", b"599"],
    [b"000", b"099", b"101", b"600"],
)
_REASON: Choices = (
    [b" OK", b" Not Found", b"", b" ", b" a\tb"],
    [b" O\rK", b" O\x01K", b" O\x00K"],
)
_SIZE_AROUND: Choices = ([b""], [b" ", b"\t"])
_EXTENSION: Choices = ([b"", b";a=b", b";x"], [b" ;a", b";a\x01", b"\t"])
_BYTE = st.sampled_from(list(b"\r\n \t\x0b\x0c\x00\x01\x7f\x80\xff:;,=0159aAfFzZ-"))


@dataclass
class Grammar:
    """Draws the pieces of one response: near misses only in an odd one."""

    draw: st.DrawFn
    odd: bool
    crlf: bool

    def pick(self, choices: Choices) -> bytes:
        plain, odd = choices
        return self.draw(st.sampled_from(plain + odd if self.odd else plain))

    def eol(self) -> bytes:
        """CRLF; in a response that uses LF, LF and now and then CRLF."""
        if self.crlf or self.draw(st.integers(0, 4)) == 0:
            return b"\r\n"
        return b"\n"

    def header(self) -> bytes:
        if self.draw(st.booleans()):
            name = self.draw(st.sampled_from([b"Server", b"X-A", b"Set-Cookie", b"Link"]))
            return self.field(name, self.pick(_TEXT))
        return self.field(
            self.draw(st.sampled_from([b"Connection", b"connection"])), self.pick(_CONNECTION)
        )

    def field(self, name: bytes, value: bytes) -> bytes:
        fold = self.pick(_FOLD)
        if fold:
            value = self.eol() + fold + value
        return name + b": " + value + self.eol()

    def chunked(self, body: bytes) -> bytes:
        out = b""
        rest = body
        while rest:
            size = self.draw(st.integers(1, len(rest)))
            digits = self.draw(st.sampled_from([b"%x", b"%X", b"%04x"])) % size
            out += self.pick(_SIZE_AROUND) + digits + self.pick(_SIZE_AROUND)
            out += self.pick(_EXTENSION) + self.eol() + rest[:size] + self.eol()
            rest = rest[size:]
        trailers = b"".join(self.header() for _ in range(self.draw(st.integers(0, 2))))
        if self.odd and self.draw(st.integers(0, 4)) == 0:
            trailers += b"not a header" + self.eol()
        return out + b"0" + self.eol() + trailers + self.eol()


@st.composite
def responses(draw: st.DrawFn) -> bytes:
    """One response to a GET: maybe a 100 Continue first, maybe bytes after it."""
    crlf = draw(st.booleans()) or draw(st.booleans())
    grammar = Grammar(draw, odd=draw(st.integers(0, 2)) == 0, crlf=crlf)
    version = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.0"]))
    fields = [grammar.header() for _ in range(draw(st.integers(0, 3)))]
    body = draw(st.binary(max_size=40))
    framing = draw(st.sampled_from(["length", "chunked", "close", "both"]))
    if framing in ("length", "both"):
        length = grammar.pick(_LENGTH).replace(b"%d", b"%d" % len(body))
        fields.append(grammar.field(b"Content-Length", length))
    if framing in ("chunked", "both"):
        fields.append(grammar.field(b"Transfer-Encoding", grammar.pick(_CODINGS)))
        body = grammar.chunked(body)
    head = version + b" " + grammar.pick(_STATUS) + grammar.pick(_REASON) + grammar.eol()
    head += b"".join(draw(st.permutations(fields))) + grammar.eol()
    interim = draw(st.sampled_from([b"", b"HTTP/1.1 100 Continue\r\n\r\n"]))
    trailing = draw(st.sampled_from([b"", b"", b"", b"HTTP/1.1 200 OK\r\n", b"x"]))
    return interim + head + body + trailing


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with a few bytes replaced, inserted, deleted or repeated."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(out)))
        operation = draw(st.sampled_from(["replace", "insert", "delete", "repeat"]))
        if operation == "replace" and at < len(out):
            out[at] = draw(_BYTE)
        elif operation == "insert":
            out[at:at] = bytes([draw(_BYTE)])
        elif operation == "delete":
            del out[at : at + draw(st.integers(1, 3))]
        else:
            out[at:at] = out[at : at + draw(st.integers(1, 8))]
    return bytes(out)


@st.composite
def inputs(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    """A response, maybe mutated, and where to split it into reads."""
    data = draw(responses())
    if draw(st.integers(0, 2)) == 0:
        data = draw(mutated(data))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=6)))
    return data, cuts


@FUZZ
@given(inputs())
def test_hx_agrees_with_h11_and_llhttp(case: tuple[bytes, list[int]]) -> None:
    data, cuts = case
    check(data, run_hx(data, cuts), run_h11(data), run_llhttp(data))


# -- the harness itself --------------------------------------------------------


def test_the_oracles_see_what_they_should() -> None:
    """A property test is only as good as its oracles: each sees a plain response whole
    and a broken one as broken."""
    good = b"HTTP/1.1 200 OK\r\nX: y\r\nContent-Length: 2\r\n\r\nok"
    for run in (run_h11, run_llhttp, lambda data: run_hx(data, [7])):
        outcome = run(good)
        assert (outcome.accepted, outcome.status, outcome.body) == (True, 200, b"ok")
        assert (outcome.ended_at, outcome.keep_alive) == (len(good), True)
        assert comparable(outcome.headers) == [(b"x", b"y")]
        assert run(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").rejected
    for run in (run_h11, run_llhttp):
        left_over = run(good + b"HTTP")
        assert (left_over.accepted, left_over.ended_at) == (True, len(good))


@pytest.mark.parametrize(
    ("data", "hx", "message"),
    [
        pytest.param(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            Outcome(rejected=True),
            "both oracles accept it, hx does not",
            id="refused",
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            Outcome(accepted=True, status=200, body=b"ko"),
            "assert",
            id="misread",
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            Outcome(accepted=True, status=200, body=b"2\r\nok", ended_at=47, keep_alive=True),
            "assert",
            id="desync",
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!",
            Outcome(accepted=True, status=200, body=b"ok!", ended_at=64, keep_alive=True),
            "both oracles refuse it, hx would reuse the connection",
            id="reused-after-a-refusal",
        ),
    ],
)
def test_the_properties_catch_what_they_are_for(data: bytes, hx: Outcome, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        check(data, hx, run_h11(data), run_llhttp(data))
