"""Helpers the tests share: loopback servers and runners, no tests of their own.

``server``             the loopback HTTP/1.1 TestServer and its routes
``fault_server``       a server that misbehaves on purpose (resets, stalls, bad framing)
``download_server``    ranges, validators and resumable bodies for downloads
``downloads``          ``hx download`` in-process or as a process, and its files on disk
``http1_server``       a scripted byte-level server for the HTTP/1.1 transport tests
``h2_server``          a scripted HTTP/2 server (h2's server side) for the HTTP/2 transport tests
``tls_servers``        trustme certificates and an ASGI (HTTP/2) server over TLS
``proxy_servers``      real HTTP and SOCKS5 proxies (pproxy in a child process)
``transport``          shared pieces of the transport tests
``cli``                the in-process ``hx()`` runner, NDJSON records, input files
``process``            hx as a child process: command, environment, waiting
"""
