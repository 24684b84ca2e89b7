"""Monitoring and cron: the same input run again and again, and checked.

Where things happen:

``options``        MonitorOptions (what a job asks of hx.monitor) and durations
``monitoring``     what a run does for these options: wraps the fetcher, sees each record
``expectations``   the checks a response must pass, from the command line and input lines
``json_path``      ``--expect-json``'s small path syntax (``data.items[0].id``)
``assertions``     checking responses: a failed check is a record of kind ``assertion``
``kept``           headers and bodies kept for the checks, then dropped unless asked for
``cache``          ``--cache``: ETag and Last-Modified per request, conditional requests
``metrics``        ``--metrics-file``: Prometheus text exposition after each run or round
``rounds``         ``--every``: the input in rounds on one client, on a fixed schedule
``dry_run``        ``--dry-run``: the requests as hx would send them, without connecting
"""
