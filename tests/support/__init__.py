"""Helpers the tests share: loopback servers and runners, no tests of their own.

Servers (each module's docstring lists its routes):

``server``             the loopback HTTP/1.1 TestServer and its routes
``fault_server``       a server that misbehaves on purpose (resets, stalls, bad framing)
``hostile_server``     a raw server that attacks its client (bombs, endless bodies, huge heads)
``download_server``    ranges, validators and resumable bodies for downloads
``stream_servers``     SSE and NDJSON streams, real and raw, for ``hx stream``
``monitor_servers``    servers for hx.monitor: slow for a while, honouring ETag or Last-Modified
``http1_server``       a scripted byte-level server for the HTTP/1.1 transport tests
``h2_server``          a scripted HTTP/2 server (h2's server side) for the HTTP/2 transport tests
``tls_servers``        trustme certificates and an ASGI (HTTP/2) server over TLS
``proxy_servers``      real HTTP and SOCKS5 proxies (pproxy in a child process)

Running hx and reading what it wrote:

``cli``                the in-process ``hx()`` runner, NDJSON records, input files
``process``            hx as a child process: command, environment, waiting
``downloads``          ``hx download`` in-process or as a process, and its files on disk
``screen``             what a terminal of a given width shows after some output
``transport``          shared pieces of the transport tests
"""
