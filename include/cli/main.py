"""`civic`: the platform's command line. Every command has --help.

Known failures (a service that will not start, a bad source file, a missing
connection) end with one red line and exit code 1, never a traceback.
"""

from __future__ import annotations

import sys

import typer

from include.cli import output
from include.cli.audit import audit_app
from include.cli.demo import demo
from include.cli.evaluate import eval_app
from include.cli.sample import sample
from include.cli.scrub import scrub
from include.cli.services import services_app

app = typer.Typer(
    help="Civic submissions data platform: local services, sample data, scrubbing, demo.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(services_app, name="services")
app.add_typer(audit_app, name="audit")
app.command()(sample)
app.command()(demo)
app.command()(scrub)
app.add_typer(eval_app, name="eval")


def main() -> None:
    try:
        app()
    except output.KNOWN_ERRORS as exc:
        output.fail(str(exc))
        sys.exit(1)
    except KeyboardInterrupt:
        output.fail("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
