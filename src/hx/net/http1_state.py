"""The life of one hx.net.http1 connection: its states, and every transition between them.

Everything that decides whether a connection may carry another request lives
here (as in h11's ``_state.py``): the connection reports events, ``advance``
looks up the next state in ``TRANSITIONS``, and a pair missing from the table
is a bug in hx (MissingTransition), not in the server. IDLE is the one state a request may start in.

    CONNECTING -made-> IDLE -send-> AWAITING_HEAD -head-> RECEIVING_BODY
    RECEIVING_BODY -end-> DONE -release-> IDLE                (keep-alive)
    RECEIVING_BODY -end_last-> MUST_CLOSE -release-> CLOSED   (the response ends the connection)

and from every state, on the way down: the exchange breaks (fail), the
response is dropped unread (release), the server closes the connection or
sends bytes no request asked for (spoil).
"""

from __future__ import annotations

from enum import IntEnum


class State(IntEnum):
    CONNECTING = 0
    """The socket (and TLS) is being set up."""
    IDLE = 1
    """Open and in step with the server: may carry the next request."""
    AWAITING_HEAD = 2
    """A request is being sent, or has been; its response head has not arrived."""
    RECEIVING_BODY = 3
    """The head has arrived; the body has not ended."""
    DONE = 4
    """The response has ended; the connection is reusable once the response is released."""
    MUST_CLOSE = 5
    """The response has ended, and with it the connection: the response may still be read."""
    CLOSED = 6
    """Nothing more goes over this connection (an exchange still open has its error)."""


class Event(IntEnum):
    MADE = 0
    """The connection is established."""
    SEND = 1
    """A request starts."""
    HEAD = 2
    """The final response head (not a 1xx) has been parsed."""
    END = 3
    """The body has ended as framed; the server keeps the connection open."""
    END_LAST = 4
    """The body has ended, but the connection cannot carry another request (Connection:
    close, HTTP/1.0, a body delimited by the close, framing hx does not trust, excess bytes)."""
    FAIL = 5
    """The exchange broke: a protocol error, a read error, a close before the body's end."""
    RELEASE = 6
    """The response stream was closed: the caller is done with this exchange."""
    SPOIL = 7
    """Outside an exchange's reading, the server closed or sent bytes nobody asked for."""


S, E = State, Event

TRANSITIONS: dict[State, dict[Event, State]] = {
    S.CONNECTING: {E.MADE: S.IDLE},
    S.IDLE: {E.SEND: S.AWAITING_HEAD, E.SPOIL: S.CLOSED},
    S.AWAITING_HEAD: {
        E.HEAD: S.RECEIVING_BODY,
        E.FAIL: S.CLOSED,
    },
    S.RECEIVING_BODY: {
        E.END: S.DONE,
        E.END_LAST: S.MUST_CLOSE,
        E.FAIL: S.CLOSED,
        E.RELEASE: S.CLOSED,  # the rest of the body is still on its way
    },
    S.DONE: {E.RELEASE: S.IDLE, E.SPOIL: S.MUST_CLOSE},
    S.MUST_CLOSE: {E.RELEASE: S.CLOSED, E.SPOIL: S.MUST_CLOSE},
    S.CLOSED: {E.RELEASE: S.CLOSED, E.SPOIL: S.CLOSED},
}

READING = frozenset([S.AWAITING_HEAD, S.RECEIVING_BODY])
"""The states in which bytes from the server belong to the exchange."""
ENDED = frozenset([S.DONE, S.MUST_CLOSE])
"""The states in which the response has been received whole."""


class MissingTransition(RuntimeError):
    """An event the table has no transition for in the current state: a bug in hx."""

    def __init__(self, state: State, event: Event) -> None:
        super().__init__(f"HTTP/1.1 connection: no transition {state.name} -{event.name}->")


def advance(state: State, event: Event) -> State:
    """The state after ``event``."""
    try:
        return TRANSITIONS[state][event]
    except KeyError:
        raise MissingTransition(state, event) from None
