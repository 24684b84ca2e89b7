"""The batch engine: many requests over one client, bounded, retried, rate-limited.

sources     the input (URL list or NDJSON) read line by line into request specs
engine      admission, concurrency slots, per-host limits, the retry loop
retry       which failures are retried and how long to wait first (Retry-After included)
ratelimit   --rate, --per-host-rate, --limit-rate and per-host pauses
journal     the crash-safe log of finished requests that a re-run skips
"""
