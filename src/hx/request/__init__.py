"""One request, start to finish: send it, follow its redirects, read its body,
and describe what happened as a :class:`hx.models.Result`.

fetch       build, send and read one request; the fetcher ``hx fetch`` runs
redirects   following redirects by hx's rules (schemes, downgrades, secret headers)
decoding    Content-Encoding decoded in bounded steps (bombs stay small)
failures    exceptions from httpx, ssl and the OS -> an error kind and a message
"""
