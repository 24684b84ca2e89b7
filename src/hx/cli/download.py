"""``hx download``: files streamed to disk, resumable, split, verified."""

import contextlib
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hx.cli import monitoring
from hx.cli.app import EXIT_CODES_HELP, command_app
from hx.cli.help import HelpCommand
from hx.cli.options import FILES, INPUT, LIMITS, NetworkOptions, option, with_options
from hx.errors import ExitCode, UsageError
from hx.values import check_digest, parse_checksum, parse_size

if TYPE_CHECKING:
    from hx.models import InputItem, RequestSpec


app = command_app()


@app.command(cls=HelpCommand, epilog=EXIT_CODES_HELP)
@with_options
def download(
    options: NetworkOptions,
    urls: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="URL",
            help="URLs to download; a bare name like big.zip is resolved against --base-url.",
            show_default=False,
        ),
    ] = None,
    input_file: Annotated[
        str | None,
        option(
            "-i",
            "--input-file",
            metavar="FILE",
            help="URL list or NDJSON (url, output, sha256, checksum, headers, id); '-': stdin.",
            panel=INPUT,
        ),
    ] = None,
    output: Annotated[
        str | None,
        option(
            "-o",
            "--output",
            metavar="FILE",
            help="Save the (single) download here; '-' writes it to stdout.",
            panel=FILES,
        ),
    ] = None,
    directory: Annotated[
        Path,
        option("-d", "--dir", metavar="DIR", help="Directory to save files in.", panel=FILES),
    ] = Path("."),
    base_url: Annotated[
        str | None,
        option(
            "--base-url",
            metavar="URL",
            help="Resolve bare names and relative URLs against this.",
            panel=INPUT,
        ),
    ] = None,
    resume: Annotated[
        bool,
        option(
            "-C",
            "--continue",
            help="Resume NAME.part from an earlier run (If-Range keeps it consistent).",
            panel=FILES,
        ),
    ] = False,
    split: Annotated[
        int,
        option(
            "--split",
            min=1,
            max=64,
            metavar="N",
            help="Connections per file when the server supports ranges.",
            panel=LIMITS,
        ),
    ] = 1,
    overwrite: Annotated[
        bool,
        option(
            "--overwrite",
            help="Replace existing files (else: NAME.1, NAME.2, and so on).",
            panel=FILES,
        ),
    ] = False,
    # Re-runs from cron (hx.download.existing): keep what is there, as wget does.
    no_clobber: Annotated[
        bool,
        option(
            "--no-clobber",
            help="Keep files that exist: send nothing for them (records say skipped).",
            panel=FILES,
        ),
    ] = False,
    timestamping: Annotated[
        bool,
        option(
            "-N",
            "--timestamping",
            help="Keep a file unless the server's copy is newer or of another size (a HEAD"
            " asks); a file downloaded takes the server's Last-Modified as its time.",
            panel=FILES,
        ),
    ] = False,
    sha256: Annotated[
        str | None,
        option("--sha256", metavar="HEX", help="Expected SHA-256 of the file.", panel=FILES),
    ] = None,
    checksum: Annotated[
        str | None,
        option(
            "--checksum",
            metavar="ALGO=HEX",
            help="Expected digest as ALGO=HEX (sha256, sha512, sha1, md5).",
            panel=FILES,
        ),
    ] = None,
    limit_rate: Annotated[
        int | None,
        option(
            "--limit-rate",
            parser=parse_size,
            metavar="SIZE",
            help="Bandwidth cap across all files, bytes per second (e.g. 2M).",
            panel=LIMITS,
        ),
    ] = None,
    stream: Annotated[
        bool,
        option(
            "--stream",
            help="Stream to disk in constant memory (always on; accepted for clarity).",
            panel=FILES,
        ),
    ] = True,
    metrics_file: monitoring.MetricsFile = None,
    fail_fast: monitoring.FailFast = None,
) -> None:
    """Download URLs to files: streamed, atomic (NAME.part renamed when complete), resumable.

    Examples:

    \b
      hx download https://example.org/big.zip --stream
      hx download -C --split 4 --sha256 9f86d0... https://example.org/big.iso -d isos/
      hx download -i files.ndjson -c 4 --limit-rate 10M
      HX_BASE_URL=https://mirror.example.org/pub hx download big.zip

    One NDJSON record per file goes to stdout (path, bytes, sha256, elapsed,
    resumed_from, status, error). stderr shows a bar per file on a terminal,
    a line per file (size, time, rate, where a resumed file continued) and a
    summary of files and bytes; sizes are binary (KiB, MiB, GiB) throughout.
    """
    # Imported here: `hx --help` and `hx --version` need none of the engine.
    from hx import console
    from hx.cli import common
    from hx.console.downloads import DownloadProgress
    from hx.download import Downloader, DownloadOptions
    from hx.monitor.options import MonitorOptions
    from hx.run.runner import BatchJob, run_job

    err = console.make_console()

    def run() -> ExitCode:
        given = list(urls or ())
        if not given and input_file is None:
            raise UsageError("give URLs to download, or -i FILE")
        single = len(given) == 1 and input_file is None
        if output is not None and not single:
            raise UsageError("-o/--output needs exactly one URL (use -d DIR, or 'output' in -i)")
        expected = _expected_digest(sha256, checksum)
        if expected is not None and not single:
            raise UsageError("--sha256/--checksum need exactly one URL (use 'sha256' in -i)")
        to_stdout = output == "-"
        if to_stdout and split > 1:
            raise UsageError("--split cannot write to stdout (-o -)")
        _check_keeping(no_clobber, timestamping, overwrite, resume, to_stdout)
        settings = common.settings_from(
            options,
            # Each file may hold --split connections at once.
            pool_size=options.concurrency * split,
        )
        downloads = DownloadOptions(
            directory=_directory(directory),
            overwrite=overwrite or timestamping,  # -N replaces a file the server has newer
            resume=resume,
            split=split,
            limit_rate=limit_rate,
            to_stdout=to_stdout,
            no_clobber=no_clobber,
            timestamping=timestamping,
        )
        job = BatchJob(
            settings=settings,
            output_file=options.output_file,
            record_format=common.record_format(options),
            write_records=not to_stdout or options.output_file is not None,
            summary_json=options.summary_json,
            monitor=MonitorOptions(metrics_file=metrics_file, fail_fast=fail_fast),
        )
        arg_specs = [
            _spec(number, url, base_url, None if to_stdout else output, expected)
            for number, url in enumerate(given, start=1)
        ]
        progress = DownloadProgress(err, enabled=not options.quiet)
        with _input_items(input_file, base_url) as (file_items, blocking):
            return common.run_batch_command(
                err,
                options,
                progress,
                lambda progress_, notify: run_job(
                    job,
                    itertools.chain(arg_specs, file_items),
                    blocking,
                    progress_,
                    notify,
                    fetcher=Downloader(downloads, progress),
                ),
                empty_input=str(input_file),
            )

    raise typer.Exit(common.exit_code_of(err, run))


def _spec(
    number: int,
    url: str,
    base_url: str | None,
    output: str | None,
    checksum: tuple[str, str] | None,
) -> "RequestSpec":
    from hx.batch.sources import check_url
    from hx.cli.common import parse_option
    from hx.models import RequestSpec
    from hx.redact import redact_url

    return RequestSpec(
        line=number,
        url=parse_option(lambda: check_url(url, base_url), f"URL {redact_url(url)!r}"),
        output=output,
        checksum=checksum,
    )


@contextlib.contextmanager
def _input_items(
    input_file: str | None, base_url: str | None
) -> Iterator[tuple[Iterator["InputItem"], bool]]:
    """The -i file's items (and whether reading may block), or nothing."""
    from hx.batch.sources import (
        DOWNLOAD_KEYS,
        RequestDefaults,
        detect_format,
        open_source,
        read_items,
        stream_is_blocking,
    )

    if input_file is None:
        yield iter(()), False
        return
    stream = open_source(input_file)
    with contextlib.closing(stream) if input_file != "-" else contextlib.nullcontext():
        items = read_items(
            stream,
            detect_format(input_file, "auto"),
            RequestDefaults(base_url=base_url),
            ndjson_keys=DOWNLOAD_KEYS,
        )
        yield items, stream_is_blocking(stream)


def _check_keeping(
    no_clobber: bool, timestamping: bool, overwrite: bool, resume: bool, to_stdout: bool
) -> None:
    """--no-clobber and -N keep files: not with options that replace or continue them."""
    for name, given in (("--no-clobber", no_clobber), ("-N/--timestamping", timestamping)):
        if not given:
            continue
        for other, also in (("--overwrite", overwrite), ("-C", resume), ("-o -", to_stdout)):
            if also:
                raise UsageError(f"{name} cannot be combined with {other}")
    if no_clobber and timestamping:
        raise UsageError("--no-clobber and -N/--timestamping cannot be combined")


def _expected_digest(sha256: str | None, checksum: str | None) -> tuple[str, str] | None:
    if sha256 is not None and checksum is not None:
        raise UsageError("--sha256 and --checksum cannot be used together")
    from hx.cli.common import parse_option

    if sha256 is not None:
        return parse_option(lambda: check_digest("sha256", sha256), "--sha256")
    if checksum is not None:
        return parse_option(lambda: parse_checksum(checksum), "--checksum")
    return None


def _directory(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--dir {path}: {exc.strerror or exc}") from exc
    return path
