"""``hx stream``: many streaming responses at once, one record per event as it arrives.

Where things happen:

``fetcher``      the engine's fetcher: one stream followed to its end, reconnections included
``connection``   one connection: send, read raw bytes, decode, split, frame, write events
``reconnect``    when an SSE stream is connected again (Last-Event-ID), and after how long
``state``        one stream across connections: seq, timing, -O file, its final record
``lines``        a body split into lines, each bounded by --max-line (CRLF, LF, CR)
``sse``          Server-Sent Events assembled from lines (the WHATWG rules)
``framing``      SSE, NDJSON or plain lines, chosen by Content-Type: lines -> events
``tally``        the run's summary: events, time to first event, gaps
``options``      StreamOptions

Nothing is imported here, so the CLI can read StreamOptions' defaults without
loading the engine.
"""
