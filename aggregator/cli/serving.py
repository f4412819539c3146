"""cli.serving: serve."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import UTC, datetime, timedelta

import click

from aggregator.cli.base import EXIT_LISTEN, cli, errors_to_exit_codes, load


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--stale",
    default="1d",
    show_default=True,
    metavar="DURATION",
    help="/healthz answers 503 when the main feed is older than this.",
)
@click.option("-q", "--quiet", is_flag=True, help="No access log on stderr.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, stale: str, quiet: bool) -> None:
    """Serve the output folder over HTTP (ETag, Last-Modified, 304, gzip, feed media
    types), with /healthz and /metrics (Prometheus), one line per request on stderr in
    the Common Log Format. Exits 6 when it cannot listen (the port is in use). SIGTERM
    or Ctrl-C stops it."""
    from aggregator.config import parse_duration
    from aggregator.health.metrics import render_metrics
    from aggregator.publish.serve import make_server
    from aggregator.run.pipeline import collect_health
    from aggregator.store import Store

    with errors_to_exit_codes():
        config = load(ctx)
        try:
            max_age = parse_duration(stale, low=timedelta(minutes=1)).total_seconds()
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--stale") from None
        store = Store(config.store_url)

        def metrics() -> str:
            now = datetime.now(UTC)
            return render_metrics(collect_health(config, store, now), now)

        try:
            server = make_server(
                config.output_dir, host, port, metrics, max_age, access_log=not quiet
            )
        except OSError as exc:
            store.close()
            click.echo(f"serve: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
            sys.exit(EXIT_LISTEN)
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
        click.echo(f"serve: {config.output_dir} on http://{host}:{server.server_port}/", err=True)
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            store.close()
