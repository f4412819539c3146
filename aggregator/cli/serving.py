"""cli.serving: serve."""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime, timedelta

import click

from aggregator.cli.base import cli, errors_to_exit_codes, load


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
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, stale: str) -> None:
    """Serve the output folder over HTTP (ETag, Last-Modified, 304, gzip, feed media
    types), with /healthz and /metrics (Prometheus). SIGTERM or Ctrl-C stops it."""
    from aggregator.config import parse_duration
    from aggregator.errors import PublishError
    from aggregator.health import render_metrics
    from aggregator.pipeline import collect_health
    from aggregator.serve import make_server
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
            server = make_server(config.output_dir, host, port, metrics, max_age)
        except OSError as exc:
            raise PublishError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
        click.echo(f"serve: {config.output_dir} on http://{host}:{server.server_port}/", err=True)
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            store.close()
