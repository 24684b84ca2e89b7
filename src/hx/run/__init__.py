"""Running one command: input -> engine -> records, signals, summary, exit code.

runner      one process's run of a batch
workers     --workers: forked processes, their records merged into one stream
records     writing NDJSON records to stdout or a file
summary     the end-of-run counts and percentiles, and the exit code they give
"""
