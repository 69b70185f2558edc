"""deploy/ stays true to the code: the compose file, the Dockerfile and the systemd unit name
only settings and commands that exist; the unit is hardened (and passes systemd's own check
where systemd-analyze is installed); the alert rules and the dashboard use only metric names
that /metrics serves. (Docker does not run here: these files are kept right by reading.)"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import _parser
from bot.config import unknown_options
from bot.domain.clock import ManualClock
from bot.metrics import Metrics
from bot.persistence.database import create_engine, migrate

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
UNIT = DEPLOY / "kortelijn.service"
DOCKERFILE = DEPLOY / "Dockerfile"
RULES = DEPLOY / "prometheus" / "kortelijn-alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "kortelijn-dashboard.json"


def names_a_setting(variable: str) -> bool:
    section, _, key = variable.removeprefix("KORTELIJN_").lower().partition("__")
    return bool(key) and not unknown_options({section: {key: None}})


def test_the_check_catches_a_setting_that_does_not_exist() -> None:
    assert names_a_setting("KORTELIJN_DATABASE__URL")
    assert names_a_setting("KORTELIJN_METRICS__ADDRESS")
    assert not names_a_setting("KORTELIJN_DATABASE__URI")
    assert not names_a_setting("KORTELIJN_DATABSE__URL")
    assert not names_a_setting("KORTELIJN_DATABASE")


def parses_as_a_command(argv: list[str]) -> bool:
    try:
        _parser().parse_args(argv)
    except SystemExit:
        return False
    return True


# --- compose ----------------------------------------------------------------------------------
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def test_compose_names_only_settings_and_commands_that_exist() -> None:
    services = compose()["services"]
    kortelijn = {name: s for name, s in services.items() if s.get("image") == "kortelijn:latest"}
    assert set(kortelijn) == {"migrate", "bot-1", "bot-2"}
    for name, service in kortelijn.items():
        variables = [v for v in service["environment"] if v.startswith("KORTELIJN_")]
        assert variables, name
        for variable in variables:
            assert names_a_setting(variable), f"{name}: {variable}"
        assert parses_as_a_command(service["command"]), f"{name}: {service['command']}"
    build = services["migrate"]["build"]
    assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE


def test_compose_migrates_once_before_two_bots_on_one_postgresql() -> None:
    services = compose()["services"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for bot in ("bot-1", "bot-2"):
        assert services[bot]["command"] == ["run"]
        assert services[bot]["depends_on"]["migrate"]["condition"] == \
            "service_completed_successfully"
        assert services[bot]["depends_on"]["synapse"]["condition"] == "service_healthy"
        assert services[bot]["restart"] == "on-failure"
        url = services[bot]["environment"]["KORTELIJN_DATABASE__URL"]
        assert url.startswith("postgresql+asyncpg://")
        assert "@postgres:5432/" in url
    # the same configuration, each instance under its own stable name
    one, two = (dict(services[bot]["environment"]) for bot in ("bot-1", "bot-2"))
    assert (one.pop("KORTELIJN_CLUSTER__INSTANCE"), two.pop("KORTELIJN_CLUSTER__INSTANCE")) \
        == ("bot-1", "bot-2")
    assert one == two
    assert "profiles" not in services["bot-2"]  # both run by default
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["synapse"]["image"].startswith("matrixdotorg/synapse")
    # the secrets come from the environment, none is written in the file
    env = services["bot-1"]["environment"]
    assert env["KORTELIJN_SECURITY__KEY"].startswith("${")
    assert env["KORTELIJN_BOT__MODE"] == "production"


def test_the_compose_secrets_file_names_what_compose_asks_for() -> None:
    example = (DEPLOY / "compose.env.example").read_text()
    asked = set(re.findall(r"\$\{(\w+)", COMPOSE.read_text()))
    given = set(re.findall(r"^(\w+)=", example, flags=re.MULTILINE))
    assert asked == given


# --- the Dockerfile ---------------------------------------------------------------------------
def test_the_dockerfile_is_slim_non_root_and_installs_as_the_readme() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.1[1-9]-slim$", text, flags=re.MULTILINE)
    users = re.findall(r"^USER (\S+)$", text, flags=re.MULTILINE)
    assert users == ["kortelijn"]
    assert "python -m venv /opt/kortelijn/venv" in text
    assert "/opt/kortelijn/venv/bin/pip install --no-cache-dir ." in text
    readme = (ROOT / "README.md").read_text()
    assert "python3 -m venv /opt/kortelijn/venv" in readme
    assert "/opt/kortelijn/venv/bin/pip install ." in readme
    for variable in re.findall(r"\b(KORTELIJN_\w+)=", text):
        assert names_a_setting(variable), variable
    entry = json.loads(re.findall(r"^ENTRYPOINT (.+)$", text, flags=re.MULTILINE)[0])
    cmd = json.loads(re.findall(r"^CMD (.+)$", text, flags=re.MULTILINE)[0])
    assert entry == ["kortelijn"]
    assert parses_as_a_command(cmd)
    for copied in re.findall(r"^COPY (\S+) ", text, flags=re.MULTILINE):
        assert (ROOT / copied).exists(), copied


# --- the systemd unit -------------------------------------------------------------------------
def unit() -> list[tuple[str, str]]:
    pairs = []
    for line in UNIT.read_text().splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            pairs.append((key, value))
    return pairs


def test_the_unit_names_only_settings_and_commands_that_exist() -> None:
    settings = unit()
    variables = [value.split("=", 1)[0] for key, value in settings if key == "Environment"]
    assert variables
    for variable in variables:
        assert names_a_setting(variable), variable
    commands = [value for key, value in settings if key in ("ExecStart", "ExecStartPre")]
    assert len(commands) == 2
    for command in commands:
        argv = shlex.split(command)
        assert argv[0] == "/opt/kortelijn/venv/bin/kortelijn"
        assert parses_as_a_command(argv[1:]), command


def test_the_unit_is_hardened() -> None:
    settings = dict(unit())
    assert settings["User"] == "kortelijn"
    assert settings["NoNewPrivileges"] == "true"
    assert settings["ProtectSystem"] == "strict"
    assert settings["PrivateTmp"] == "true"
    assert settings["ProtectHome"] == "true"
    assert settings["Restart"] == "on-failure"
    assert settings["ReadWritePaths"] == settings["WorkingDirectory"] == "/var/lib/kortelijn"
    assert settings["CapabilityBoundingSet"] == ""


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    """systemd's own check, with the command pointed at this installation."""
    kortelijn = Path(sys.executable).parent / "kortelijn"
    assert kortelijn.exists()
    copy = tmp_path / "kortelijn.service"
    copy.write_text(UNIT.read_text().replace("/opt/kortelijn/venv/bin/kortelijn",
                                             str(kortelijn)))
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None
    done = subprocess.run([analyze, "verify", "--man=no", str(copy)],  # noqa: S603
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == ""


# --- metrics in the alert rules and the dashboard ---------------------------------------------
async def served_metric_names(tmp_path: Path) -> set[str]:
    """Every sample name /metrics can serve (counters with _total, histograms' parts)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'k.db'}")
    try:
        await migrate(engine)
        metrics = Metrics(engine, ManualClock(datetime.now(UTC)), lambda: {"telegram": True},
                          lambda: True)
        await metrics.render()
        names: set[str] = set()
        for family in metrics.registry.collect():
            suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}
            names.update(family.name + s for s in suffixes.get(family.type, [""]))
        return names
    finally:
        await engine.dispose()


def used_metric_names(text: str) -> set[str]:
    return set(re.findall(r"\bkortelijn_[a-z_]+", text))


async def test_the_alert_rules_and_the_dashboard_use_metrics_that_exist(tmp_path: Path) -> None:
    served = await served_metric_names(tmp_path)
    assert {"kortelijn_windows_open", "kortelijn_deliveries_total",
            "kortelijn_retry_wait_seconds_bucket"} <= served
    rules = RULES.read_text()
    dashboard = DASHBOARD.read_text()
    for source in (rules, dashboard):
        used = used_metric_names(source)
        assert used
        assert used <= served, used - served
    # the dashboard shows every metric there is
    assert {n.removesuffix("_count").removesuffix("_sum") for n in served} <= \
        used_metric_names(dashboard) | {"kortelijn_retry_wait_seconds"}


def test_the_three_alerts() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    alerts = {rule["alert"]: rule for group in groups for rule in group["rules"]}
    assert set(alerts) == {"KorteLijnMessagesNotDelivered", "KorteLijnNoLeader",
                           "KorteLijnTransportDisconnected"}
    late = alerts["KorteLijnMessagesNotDelivered"]
    assert "kortelijn_outbox_oldest_pending_age_seconds" in late["expr"]
    assert late["expr"].endswith("> 600")  # ten minutes
    assert "kortelijn_leader" in alerts["KorteLijnNoLeader"]["expr"]
    assert "absent(kortelijn_leader)" in alerts["KorteLijnNoLeader"]["expr"]
    gone = alerts["KorteLijnTransportDisconnected"]
    assert "kortelijn_transport_connected" in gone["expr"]
    assert gone["for"] == "5m"
    for rule in alerts.values():
        assert rule["annotations"]["summary"]
        assert rule["labels"]["severity"] == "page"


def test_the_dashboard_is_grafana_json() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "kortelijn"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["targets"][0]["expr"]
        assert panel["datasource"]["type"] == "prometheus"


def docker_context(into: Path) -> None:
    """What ``docker build -f deploy/Dockerfile .`` copies into the image before its
    ``pip install``: each ``COPY`` source, less what .dockerignore leaves out."""
    ignored = [line.strip().removeprefix("**/") for line in
               (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    skip = shutil.ignore_patterns(*ignored, "*.mo")  # a build makes these, the tree has none
    for line in DOCKERFILE.read_text().splitlines():
        if not line.startswith("COPY "):
            continue
        *sources, target = line.split()[1:]
        for source in sources:
            path = ROOT / source
            if path.is_dir():
                shutil.copytree(path, into / target.rstrip("/").removeprefix("./"), ignore=skip)
            else:
                shutil.copy2(path, into / path.name)


def test_the_image_installs_the_catalogues_fonts_and_migrations(tmp_path: Path) -> None:
    """The image's ``pip install .`` builds from the files its COPY lines bring: the build
    (setuptools' build_py, as the wheel's build runs it) must find everything an installed
    bot reads besides its code: each language's compiled catalogue, the fonts, every
    migration."""
    context = tmp_path / "src"
    context.mkdir()
    docker_context(context)
    built = tmp_path / "build"
    # the build backend runs setup.py when there is one, else a bare setup()
    script = "setup.py" if (context / "setup.py").exists() else None
    argv = [sys.executable, script] if script else \
        [sys.executable, "-c", "from setuptools import setup; setup()"]
    subprocess.run([*argv, "-q", "build_py", "--build-lib", str(built)], cwd=context,  # noqa: S603
                   check=True, capture_output=True, timeout=120)
    languages = {po.parent.parent.name for po in
                 (ROOT / "bot" / "i18n" / "locale").glob("*/LC_MESSAGES/kortelijn.po")}
    assert languages >= {"nl", "en"}
    for lang in languages:
        assert (built / "bot" / "i18n" / "locale" / lang / "LC_MESSAGES" /
                "kortelijn.mo").is_file(), f"the image has no {lang} catalogue"
    assert sorted(p.name for p in (built / "bot" / "assets" / "fonts").glob("*.ttf")) == \
        sorted(p.name for p in (ROOT / "bot" / "assets" / "fonts").glob("*.ttf"))
    versions = "bot/persistence/migrations/versions"
    assert sorted(p.name for p in (built / versions).glob("0*.py")) == \
        sorted(p.name for p in (ROOT / versions).glob("0*.py"))
