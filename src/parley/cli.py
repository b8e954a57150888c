"""The `parley` command line (DESIGN.md §3)."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import uuid
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
import uvloop

from parley.db import migrate
from parley.db.engine import Database
from parley.domain.errors import ParleyError
from parley.process import configure_logging, tune_garbage_collection
from parley.services.context import ServiceContext
from parley.services.demo_seed import seed_demo
from parley.services.firms import create_firm
from parley.services.matter_export import export_matter
from parley.settings import Settings

app = typer.Typer(help="Parley: client messaging for law firms.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
firm_app = typer.Typer(help="Firms.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(firm_app, name="firm")

Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(help="Port to listen on.")]


@app.command()
def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    dispatcher: Annotated[
        bool, typer.Option(help="Run the SMS dispatcher in this process too.")
    ] = True,
) -> None:
    """Web app, API, webhooks and reply pages (and the SMS dispatcher)."""
    from parley.web.app import create_app

    settings = Settings()
    app = create_app(
        settings,
        with_dispatcher=dispatcher,
        with_simulator=settings.sms_provider == "simulator",
    )
    configure_logging()
    uvicorn.run(app, host=host, port=port, log_config=None)


@app.command()
def worker() -> None:
    """The SMS dispatcher alone, beside one or more `parley serve --no-dispatcher`."""
    from parley.dispatch.runner import run_dispatcher

    settings = Settings()

    async def run() -> None:
        ctx = ServiceContext(settings=settings, db=Database(settings.database_url))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            await run_dispatcher(ctx, stop)
        finally:
            await ctx.db.dispose()

    configure_logging()
    tune_garbage_collection()
    # uvloop, as `parley serve` runs under uvicorn: sends are socket-bound.
    uvloop.run(run())


@app.command()
def simulator(
    host: Host = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8001,
) -> None:
    """The carrier simulator alone: Twilio's Messages API, for tests and trials."""
    from parley.simulator.mount import simulator_for

    configure_logging()
    uvicorn.run(simulator_for(Settings()), host=host, port=port, log_config=None)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    settings = Settings()
    migrate.upgrade(settings.database_url)
    typer.echo("Database is up to date.")


@firm_app.command("create")
def firm_create(
    name: Annotated[str, typer.Option(help="The firm's name, used in texts and emails.")],
    sms_number: Annotated[list[str], typer.Option(help="A sender number (E.164); repeatable.")],
    staff_email: Annotated[str, typer.Option(help="Email of the first staff member.")],
    staff_name: Annotated[str | None, typer.Option(help="Name of the first staff member.")] = None,
    staff_password: Annotated[
        str | None,
        typer.Option(help="Web sign-in password (10+ characters); one is made up if left out."),
    ] = None,
) -> None:
    """Create a firm and its first staff member; prints their ids, API token and password."""
    settings = Settings()
    password = staff_password or secrets.token_urlsafe(12)

    async def run() -> None:
        ctx = ServiceContext(settings=settings, db=Database(settings.database_url))
        try:
            created = await create_firm(
                ctx,
                name=name,
                sms_numbers=sms_number,
                staff_email=staff_email,
                staff_name=staff_name,
                staff_password=password,
            )
        finally:
            await ctx.db.dispose()
        typer.echo(
            json.dumps(
                {
                    "firm_id": str(created.firm_id),
                    "staff_id": str(created.staff_id),
                    "api_token": created.api_token,
                    **({} if staff_password else {"staff_password": password}),
                }
            )
        )

    try:
        asyncio.run(run())
    except ParleyError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(2) from None


@app.command(
    help=(
        "Everything recorded about one matter, as one JSON document: messages, every SMS "
        "delivery with its full status history, the raw texts filed into it, the audit log. "
        "An operator tool reading the database directly: it finds a matter of any firm by "
        "its id, without asking which firm."
    )
)
def export(
    matter: Annotated[str, typer.Option(help="Id of the matter to export.")],
    output: Annotated[
        Path | None, typer.Option(help="File to write; standard output when left out.")
    ] = None,
) -> None:
    try:
        matter_id = uuid.UUID(matter)
    except ValueError:
        typer.echo(f"error: {matter!r} is not a matter id (a UUID).", err=True)
        raise typer.Exit(1) from None
    settings = Settings()

    async def run() -> str:
        ctx = ServiceContext(settings=settings, db=Database(settings.database_url))
        try:
            return (await export_matter(ctx, matter_id)).model_dump_json(indent=2)
        finally:
            await ctx.db.dispose()

    try:
        document = asyncio.run(run())
    except ParleyError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(1) from None
    if output is None:
        typer.echo(document)
    else:
        output.write_text(document + "\n", encoding="utf-8")


@app.command()
def demo(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Everything on the embedded defaults, with a seeded demo firm."""
    from parley.web.app import create_app

    home = Path(os.environ.get("PARLEY_DEMO_DIR", ".parley-demo")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PARLEY_DATABASE_URL", f"sqlite:///{home / 'parley.db'}")
    os.environ.setdefault("PARLEY_PUBLIC_URL", f"http://{host}:{port}")
    os.environ.setdefault("PARLEY_SMS_PROVIDER", "simulator")
    # Short enough that a visitor sees a notice arrive in the demo mailbox.
    os.environ.setdefault("PARLEY_EMAIL_NOTICE_DELAY_SECONDS", "60")
    settings = Settings()
    migrate.upgrade(settings.database_url)

    async def seed() -> None:
        ctx = ServiceContext(settings=settings, db=Database(settings.database_url))
        try:
            login = await seed_demo(ctx)
        finally:
            await ctx.db.dispose()
        base = settings.public_url
        typer.echo(
            f"\nParley demo for {login.firm_name}\n"
            f"  Staff app       {base}/app\n"
            f"  Sign in as      {login.staff_email} / {login.staff_password}\n"
            f"  Phones          {base}/sim/phones\n"
            f"  Mailbox         {base}/dev/mailbox\n"
            f"  API docs        {base}/docs   (token {login.api_token})\n"
            f"  Health          {base}/healthz\n"
        )

    asyncio.run(seed())
    app = create_app(settings, with_dispatcher=True, with_simulator=True)
    configure_logging()
    uvicorn.run(app, host=host, port=port, log_config=None)


def main() -> None:
    app()
