"""deploy/: no Docker daemon or cluster here, so every file is parsed and checked instead.

The compose file and the Kubernetes manifests are valid YAML of the expected shape
(Redis with AOF, N webhook workers behind a proxy, the web chat, the WeChat push
endpoint, the dispatcher; probes on every Deployment), the Dockerfile runs as non-root
with a health check and the rules inside, every long-running worker of `python -m bot`
is deployed by each of compose, Kubernetes and systemd, and every `python -m ...`
command any of them names is accepted by that module's own argument parser
(deploy.commands).
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.commands import command_exists, find_parser

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# The long-running listeners of `python -m bot`: each one is deployed by every layout.
WORKERS = {"telegram", "web", "wechat"}


def _commands(argv: list[str]) -> list[list[str]]:
    """Every `python -m MODULE WORDS...` inside argv (nested ones after `--` too)."""
    starts = [i for i in range(len(argv) - 2) if argv[i].endswith(("python", "python3")) and argv[i + 1] == "-m"]
    found = []
    for n, i in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(argv)
        found.append(argv[i + 2 : end])
    return found


def _bot_subcommands() -> set[str]:
    parser = find_parser("bot")
    assert parser is not None
    return {name for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for name in action.choices}


def _check(argv: list[str], where: str) -> None:
    commands = _commands(argv)
    assert commands, f"{where}: no python -m command in {argv}"
    for command in commands:
        assert command_exists(command), f"{where}: `python -m {' '.join(command)}` is not a command of the project"


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _manifests() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        docs += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc["spec"]
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return list(spec["template"]["spec"]["containers"])


def _workers(argvs: list[list[str]]) -> set[str]:
    """The `python -m bot` listeners these command lines start."""
    return {command[1] for argv in argvs for command in _commands(argv) if command[0] == "bot"} & WORKERS


def test_every_worker_of_the_bot_is_deployed_everywhere() -> None:
    assert WORKERS <= _bot_subcommands()  # the list above names real subcommands
    compose = [service["command"] for service in _compose()["services"].values() if "command" in service]
    k8s = [c["command"] for doc in _manifests() if doc["kind"] in ("Deployment", "CronJob")
           for c in _containers(doc)]
    units = [shlex.split(re.findall(r"^ExecStart=(.+)$", path.read_text(), re.M)[0])
             for path in (DEPLOY / "systemd").glob("*.service")]
    for layout, argvs in (("compose", compose), ("k8s", k8s), ("systemd", units)):
        assert _workers(argvs) == WORKERS, layout


def test_compose_has_the_layout() -> None:
    services = _compose()["services"]
    assert {"redis", "webhook", "web", "wechat", "dispatcher", "proxy"} <= set(services)
    redis = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis and services["redis"]["volumes"]
    assert "replicas" in services["webhook"]["deploy"]
    assert services["webhook"]["environment"]["WEBHOOK_LISTEN"].endswith(":8080")
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert services["webhook"]["environment"]["WEBHOOK_PATH"] in nginx and "webhook:8080" in nginx
    assert "web:8081" in nginx and services["web"]["environment"]["WEB_LISTEN"].endswith(":8081")
    wechat = services["wechat"]
    assert f"location = {wechat['environment']['WECHAT_PATH']} " in nginx
    assert "http://wechat:8082;" in nginx and wechat["command"][-1].endswith(":8082")
    assert wechat["environment"]["HEALTH_PORT"] == "8082" and "REMINDERS" not in wechat["environment"]
    for name in ("webhook", "web", "wechat", "dispatcher"):
        service = services[name]
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
        _check(service["command"], f"compose:{name}")


def test_kubernetes_manifests_have_probes_and_real_commands() -> None:
    docs = _manifests()
    kinds = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert ("Deployment", "yibao-webhook") in kinds and ("Deployment", "yibao-web") in kinds
    assert ("Deployment", "yibao-wechat") in kinds and ("Service", "yibao-wechat") in kinds
    assert ("CronJob", "yibao-reminders") in kinds and ("StatefulSet", "redis-cluster") in kinds
    for doc in docs:
        if doc["kind"] in ("Deployment", "CronJob"):
            pod = doc["spec"]["jobTemplate"]["spec"]["template"] if doc["kind"] == "CronJob" else doc["spec"]["template"]
            assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
            for container in _containers(doc):
                _check(container["command"], f"k8s:{doc['metadata']['name']}")
                if doc["kind"] == "Deployment":
                    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
                    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "redis-cluster")
    assert "cluster-enabled yes" in config["data"]["redis.conf"] and "appendonly yes" in config["data"]["redis.conf"]
    bot_config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "yibao-bot")
    assert bot_config["data"]["REDIS_CLUSTER"] == "1"
    ingress = next(d for d in docs if d["kind"] == "Ingress")
    routes = {p["path"]: p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    assert routes["/wechat"] == "yibao-wechat" and routes["/telegram/webhook"] == "yibao-webhook"


def test_dockerfile_runs_as_non_root_with_rules_and_a_health_check() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    user = re.search(r"^USER\s+(\S+)", text, re.M)
    assert user and user.group(1) not in ("root", "0")
    assert re.search(r"^COPY policies ", text, re.M) and "python -m policies check" in text
    assert re.search(r"^HEALTHCHECK .*", text, re.M) and "/healthz" in text
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert cmd
    _check(yaml.safe_load(cmd.group(1)), "Dockerfile CMD")
    _check(["python", "-m", "policies", "check"], "Dockerfile RUN")


@pytest.mark.parametrize("unit", sorted(p.name for p in (DEPLOY / "systemd").glob("*.service")))
def test_systemd_units_name_real_commands(unit: str) -> None:
    text = (DEPLOY / "systemd" / unit).read_text()
    [exec_start] = re.findall(r"^ExecStart=(.+)$", text, re.M)
    _check(shlex.split(exec_start), f"systemd:{unit}")
    assert re.search(r"^User=(?!root)\S+", text, re.M)
    if _workers([shlex.split(exec_start)]):  # a listener reloads its rule files on `systemctl reload`
        assert "ExecReload=/bin/kill -HUP $MAINPID" in text


def test_local_layout_and_env_example_name_real_commands() -> None:
    _check(["python", "-m", "deploy.local", "up"], "deploy/local.sh")
    _check(["python", "-m", "deploy.every", "60", "--", "python", "-m", "policies", "check"], "deploy.every")
    assert not command_exists(["bot", "no-such-command"])  # the check itself can fail
    env = (DEPLOY / "env.example").read_text()
    for name in ("TELEGRAM_BOT_TOKEN", "REDIS_URL", "WEBHOOK_SECRET", "DEEPLINK_KEY"):
        assert re.search(rf"^#? ?{name}=", env, re.M), name
