"""``cramprules serve``: the CDS Hooks service and JSON API, on uvicorn.

The web stack is an optional extra; without it the command says how to
install it, in one line.  Nothing here imports it before the command runs,
so ``cramprules --help`` stays fast.
"""

from __future__ import annotations

import importlib.util
import logging

import click

from cramprules.cli import EXIT_USAGE, App, CliError

SERVICE_DEPS = ("starlette", "uvicorn", "jwt", "httpx")


@click.command("serve")
@click.argument("rulesets", nargs=-1, metavar="[RULESET...]")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on."
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="A TOML file with a [service] table: issuers, audiences, limits, CORS, decision log.",
)
@click.option(
    "--no-auth",
    is_flag=True,
    help="Accept calls without a JWT. For local development only: logged loudly.",
)
@click.option(
    "--decision-log", metavar="FILE|-", help="Append one JSON line per decision to FILE ('-': stderr)."
)
@click.option(
    "--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info", show_default=True
)
@click.pass_obj
def command(
    app: App,
    rulesets: tuple[str, ...],
    host: str,
    port: int,
    config_file: str | None,
    no_auth: bool,
    decision_log: str | None,
    log_level: str,
) -> None:
    """Serve RULESETs (default: the bundled leg-cramps ruleset) over HTTP.

    CDS Hooks 2.0 at /cds-services, the evaluation API at /v1/rulesets,
    the OpenAPI schema at /openapi.json, /healthz and /readyz, and the
    playground (write a ruleset and try it in the browser) at /playground.  Calls need a
    JWT from an issuer listed in --config, unless --no-auth.

    \b
    Examples:
      cramprules serve --no-auth
      cramprules serve --config service.toml --host 0.0.0.0 --port 8080
      cramprules serve clinic.cramp --config service.toml --decision-log decisions.jsonl
    """
    missing = [name for name in SERVICE_DEPS if importlib.util.find_spec(name) is None]
    if missing:
        raise CliError(
            f"error: serve needs the service extra ({', '.join(missing)} missing); "
            "install it with: pip install 'cramprules[service]'",
            EXIT_USAGE,
        )
    from cramprules.service import ServiceConfig, load_config

    overrides: dict[str, object] = {}
    if no_auth:
        overrides["auth"] = False
    if rulesets:
        overrides["rulesets"] = rulesets
    if decision_log:
        overrides["decision_log"] = decision_log
    config = load_config(config_file, **overrides) if config_file else ServiceConfig(**overrides)  # type: ignore[arg-type]
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s:     %(name)s: %(message)s")
    if no_auth:
        click.echo("warning: authentication is OFF (--no-auth); never expose this port", err=True)

    import uvicorn

    from cramprules.service import create_app
    from cramprules.service.playground import playground_routes

    asgi = create_app(config, engine=app.engine, routes=playground_routes())
    uvicorn.run(
        asgi,
        host=host,
        port=port,
        log_level=log_level,
        limit_concurrency=config.limits.max_concurrency,
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=64 * 1024,
        server_header=False,
        ws="none",
    )
