"""``cramprules serve``, the config file, and ``create_app`` for embedding."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click.testing
import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import cramprules
from cramprules.cli import App, cli
from cramprules.service import ConfigError, Issuer, ServiceConfig, create_app, load_config


def run(*args: str) -> click.testing.Result:
    app = App(engine=cramprules.Engine(autoload=False), autoload=False)
    return click.testing.CliRunner().invoke(cli, list(args), obj=app)


PROBE = """
import json, sys
from cramprules.cli import main
main(sys.argv[1:])
heavy = [m for m in sys.modules if m.split(".")[0] in ("starlette", "uvicorn", "jwt", "httpx", "lark", "anyio")]
print(json.dumps(sorted(heavy)))
"""


@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"], ["--version"]])
def test_help_and_version_import_none_of_the_service_stack(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_serve_help_has_examples() -> None:
    result = run("serve", "--help")
    assert result.exit_code == 0
    assert "cramprules serve --no-auth" in result.stdout


def test_auth_without_issuers_is_one_clear_error() -> None:
    result = run("serve")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: authentication is on but no issuer is configured")
    assert "--no-auth" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_config_file_is_one_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "service.toml"
    config.write_text("[service]\nauth = false\nlimts = {}\n")
    result = run("serve", "--config", str(config))
    assert result.exit_code == 2
    assert "unknown setting(s) limts" in result.stderr
    config.write_text("[service\n")
    assert "not valid TOML" in run("serve", "--config", str(config)).stderr


def test_a_config_file_sets_issuers_audiences_and_limits(tmp_path: Path) -> None:
    config = tmp_path / "service.toml"
    config.write_text(
        """
[service]
audiences = ["https://cds.example.org"]
decision_log = "decisions.jsonl"
cors_origins = ["https://sandbox.cds-hooks.org"]

[service.limits]
max_body_bytes = 2048
request_timeout = 3.5

[[service.issuers]]
iss = "https://ehr.example.org"
jwks_url = "https://ehr.example.org/.well-known/jwks.json"
"""
    )
    loaded = load_config(config)
    assert loaded.auth is True
    assert loaded.issuers == (
        Issuer("https://ehr.example.org", "https://ehr.example.org/.well-known/jwks.json"),
    )
    assert loaded.limits.max_body_bytes == 2048
    assert loaded.limits.request_timeout == 3.5
    assert loaded.limits.max_facts == 200  # the default
    assert load_config(config, auth=False).auth is False


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"auth": True, "issuers": [Issuer("x", jwks={"keys": []})]}, "no audience"),
        ({"auth": False, "limits": {"max_body_bytes": 0}}, "above 0"),
    ],
)
def test_settings_that_cannot_work_are_refused(settings: dict[str, Any], message: str) -> None:
    from cramprules.service.config import Limits

    if isinstance(settings.get("limits"), dict):
        with pytest.raises(ConfigError, match=message):
            Limits(**settings["limits"])
    else:
        with pytest.raises(ConfigError, match=message):
            ServiceConfig(**settings)


def test_an_issuer_needs_exactly_one_key_source() -> None:
    with pytest.raises(ConfigError, match="exactly one"):
        Issuer("https://ehr.example.org")


def test_the_real_command_serves_until_interrupted() -> None:
    env = {**os.environ, "CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "cramprules", "serve", "--no-auth", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stderr is not None
        seen = []
        deadline = time.monotonic() + 30
        url = None
        while url is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            seen.append(line)
            found = re.search(r"running on (http://127\.0\.0\.1:\d+)", line)
            url = found.group(1) if found else None
        assert url, "".join(seen)
        assert any("authentication is OFF" in line for line in seen)
        with httpx.Client(base_url=url, trust_env=False, timeout=10) as client:
            assert client.get("/readyz").json()["rulesets"] == ["leg_cramps"]
            assert client.post("/v1/rulesets/leg_cramps/evaluate", json={"prolonged": True}).json()[
                "referrals"
            ][0]["urgent"]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
        if process.stderr is not None:
            process.stderr.close()
    assert process.returncode == 0


def test_create_app_takes_rulesets_and_more_routes(serve: Any, bind: Any, tmp_path: Path) -> None:
    engine = cramprules.Engine(autoload=False)
    headline = engine.parse_ruleset(
        "ruleset headline\nif constipation and long_term then prefer citrate unless bedtime", "headline.cramp"
    )

    async def hello(request: Request) -> PlainTextResponse:
        service = request.app.state.service
        return PlainTextResponse("rulesets: " + ", ".join(service.rulesets))

    log = tmp_path / "decisions.jsonl"
    config = ServiceConfig(auth=False, decision_log=str(log), log_patient_data=True)
    app = create_app(config, engine=engine, rulesets=[headline], routes=[Route("/playground", hello)])
    with serve(app, bind()) as url, httpx.Client(base_url=url, trust_env=False, timeout=10) as client:
        assert client.get("/playground").text == "rulesets: headline"
        report = client.post("/v1/rulesets/headline/evaluate", json={"constipation": True, "long_term": True})
        assert report.json()["recommendations"][0]["status"] == "conditional"
        # Without a FHIR plugin there is no CDS Hooks service, and the service says so.
        assert client.get("/cds-services").json() == {"services": []}
        assert client.get("/readyz").json()["cds_hooks"] is False
    (line,) = [json.loads(x) for x in log.read_text("utf-8").splitlines()]
    assert line["facts"] == {"constipation": True, "long_term": True}  # asked for: log_patient_data


class BrokenFormat:
    """A plugin whose format fails with internals in its message."""

    @cramprules.hookimpl
    def cramprules_formats(self) -> dict[str, Any]:
        def boom(report: Any) -> str:
            raise RuntimeError("KeyError in /srv/secret/module.py line 42")

        return {"boom": boom}


def test_failures_are_plain_500_problems_without_internals(serve: Any, bind: Any) -> None:
    engine = cramprules.Engine(plugins=[BrokenFormat()], autoload=False)

    async def crash(request: Request) -> PlainTextResponse:
        raise ZeroDivisionError("internal detail")

    app = create_app(ServiceConfig(auth=False), engine=engine, routes=[Route("/crash", crash)])
    with serve(app, bind()) as url, httpx.Client(base_url=url, trust_env=False, timeout=10) as client:
        for response in (
            client.post("/v1/rulesets/leg_cramps/evaluate", params={"format": "boom"}, json={}),
            client.get("/crash"),
        ):
            assert response.status_code == 500
            assert response.headers["content-type"] == "application/problem+json"
            text = response.text
            assert "secret" not in text
            assert "internal detail" not in text
            assert "Error" not in text
