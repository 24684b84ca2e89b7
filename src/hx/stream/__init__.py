"""``hx stream``: many streaming responses at once, one record per event as it arrives.

Where things happen:

``lines``      a body split into lines, each bounded by --max-line (CRLF, LF, CR)
``sse``        Server-Sent Events assembled from lines (the WHATWG rules)
``framing``    SSE, NDJSON or plain lines, chosen by Content-Type: lines -> events
"""
