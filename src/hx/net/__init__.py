"""Everything below ``httpx.AsyncClient``: where bytes meet the socket.

routing      which route (direct or a proxy) a request takes; one transport per route
pool         what both of hx's connection pools share: the limit, waiting for room, closing
connect      opening a connection: resolving, TCP, TLS, each timed
exchange     what a request's phases took (response.extensions["hx.exchange"])
http1        hx's HTTP/1.1 transport for direct routes (http1_parser: the bytes -> heads;
             http1_state: a connection's states and their transitions)
http2        hx's HTTP/2 transport for direct routes under --http2 (over h2)
proxy_pool   httpcore's transport, for proxied routes only
tls          the run's one SSL context
proxies      which proxy a URL goes through (--proxy, NO_PROXY and the environment)
auth         credentials: basic, digest, bearer, netrc
cookies      the cookie jar: none kept by default, or a cookies.txt

Nothing here imports the layers above (request, batch, download, run, cli):
only hx.errors, hx.redact, hx.values and hx.settings.
"""
