"""The compose monitoring profile: Prometheus scrapes every part and the broker's own plugin, the
alert rules cover what ops must hear about, and Grafana's dashboard is provisioned from files.
promtool (Debian's prometheus package, installed by `make test` through scripts/monitoring-tools)
checks the configuration and the rules, and runs the rules' own unit tests
(monitoring/rules-tests.yml). tests/e2e/test_metrics.py evaluates them against a running palace."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ops import processes

ROOT = Path(__file__).resolve().parent.parent
MONITORING = ROOT / "monitoring"
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
PROMETHEUS = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
RULES = yaml.safe_load((MONITORING / "rules" / "palace.yml").read_text())
DASHBOARD = json.loads((MONITORING / "grafana" / "dashboards" / "palace.json").read_text())


def promtool(*args):
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail("promtool is missing: run scripts/monitoring-tools (make test does)")
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=120, cwd=MONITORING)


def alerts():
    return {rule["alert"]: rule for group in RULES["groups"] for rule in group["rules"] if "alert" in rule}


def jobs():
    return {job["job_name"]: job for job in PROMETHEUS["scrape_configs"]}


def test_prometheus_scrapes_every_process_by_its_compose_name_and_the_broker():
    for name in processes.commands():
        [sd] = jobs()[name]["dns_sd_configs"]
        assert sd["names"] == [name], name
        port = 8000 if name == "gateway" else int(COMPOSE[name]["environment"]["PALACE_METRICS_PORT"])
        assert sd["port"] == port, name
    assert jobs()["gateway"]["authorization"] == {"type": "Bearer", "credentials_file": "/run/secrets/metrics-token"}
    assert COMPOSE["prometheus"]["secrets"] == ["metrics-token"], "the gateway's /metrics answers its token alone"
    assert jobs()["rabbitmq"]["static_configs"][0]["targets"] == ["rabbitmq:15692"]
    queues = jobs()["rabbitmq-queues"]
    assert queues["metrics_path"] == "/metrics/detailed" and queues["params"]["family"] == ["queue_coarse_metrics"]


def test_the_alerts_cover_what_ops_must_hear_about():
    found = alerts()
    wanted = {"PalaceProcessDown": "up", "PalaceOutboxLagging": "palace_outbox_lag_seconds",
              "PalaceDeadLetters": r"\.dead", "PalaceRpcUnavailable": 'outcome="unavailable"',
              "PalaceDeliveriesFailing": "palace_notify_deliveries_total", "RabbitMQDiskAlarm": "disk",
              "HostDiskLow": "node_filesystem_avail_bytes"}
    for name, needle in wanted.items():
        assert name in found and needle in found[name]["expr"], name
    assert "> 30" in found["PalaceOutboxLagging"]["expr"], "outbox lag over 30 s"
    for name, rule in found.items():
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        assert rule["annotations"]["summary"], name


def metric_names_in_code():
    names = set()
    for source in (ROOT / "services" / "common" / "metrics.py", ROOT / "gateway" / "metrics.py"):
        for kind, name in re.findall(r'(Histogram|Counter|Gauge)\(\s*"([a-z_]+)"', source.read_text()):
            names |= {name, f"{name}_count", f"{name}_bucket", f"{name}_sum"} if kind == "Histogram" else \
                {name, f"{name}_total"} if kind == "Counter" else {name}
    return names


def expressions():
    found = [(rule["alert"], rule["expr"]) for rule in alerts().values()]
    for panel in DASHBOARD["panels"]:
        found += [(panel["title"], target["expr"]) for target in panel["targets"]]
    return found


def test_every_palace_metric_the_rules_and_dashboard_read_is_one_the_code_exports():
    exported = metric_names_in_code()
    for where, expr in expressions():
        for name in re.findall(r"\b(palace_[a-z_]+)", expr):
            assert name in exported, f"{where} reads {name}, which nothing exports"


def test_the_dashboard_reads_the_provisioned_datasource():
    datasource = yaml.safe_load((MONITORING / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    [source] = datasource["datasources"]
    assert source["url"] == "http://prometheus:9090"
    for panel in DASHBOARD["panels"]:
        assert panel["datasource"]["uid"] == source["uid"] and panel["targets"], panel["title"]
    provider = yaml.safe_load((MONITORING / "grafana" / "provisioning" / "dashboards" / "palace.yml").read_text())
    path = provider["providers"][0]["options"]["path"]
    assert f"./monitoring/grafana/dashboards:{path}:ro" in COMPOSE["grafana"]["volumes"]


def test_the_monitoring_profile_runs_beside_the_palace_without_changing_it():
    for name in ("prometheus", "grafana", "node-exporter"):
        assert COMPOSE[name]["profiles"] == ["monitoring"], name
    assert "./monitoring:/etc/prometheus:ro" in COMPOSE["prometheus"]["volumes"]
    for name in processes.commands():
        assert "profiles" not in COMPOSE[name], name
    broker = COMPOSE["rabbitmq"]
    assert re.match(r"rabbitmq:4\.\d+-management$", broker["image"]), "RabbitMQ 4.x"
    assert "rabbitmq_prometheus" in (MONITORING / "rabbitmq-enabled-plugins").read_text()
    assert "./monitoring/rabbitmq-enabled-plugins:/etc/rabbitmq/enabled_plugins:ro" in broker["volumes"]


def test_promtool_finds_the_configuration_and_the_rules_valid(tmp_path):
    """promtool looks for the token file, which compose mounts at /run/secrets: a copy reads one here."""
    token = tmp_path / "metrics-token"
    token.write_text("t" * 43)
    config = {**PROMETHEUS, "rule_files": [str(MONITORING / pattern) for pattern in PROMETHEUS["rule_files"]]}
    config["scrape_configs"] = [{**job, "authorization": {**job["authorization"], "credentials_file": str(token)}}
                                if "authorization" in job else job for job in PROMETHEUS["scrape_configs"]]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    checked = promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    rules = promtool("check", "rules", "rules/palace.yml")
    assert rules.returncode == 0 and f"{len(alerts())} rules found" in rules.stdout, rules.stdout + rules.stderr


def test_each_alert_fires_when_it_should_and_not_otherwise():
    tested = promtool("test", "rules", "rules-tests.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    covered = set(re.findall(r"alertname: (\w+)", (MONITORING / "rules-tests.yml").read_text()))
    assert covered >= set(alerts()) - {"RabbitMQDown", "PalaceOutboxUnread", "PalaceUnroutedEvents",
                                       "RabbitMQDiskLow"}, set(alerts()) - covered


def test_every_dashboard_query_is_valid_promql(tmp_path):
    """promtool has no command for a bare expression: each query becomes a recording rule."""
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query:{n}", "expr": target["expr"]}
        for n, target in enumerate(t for panel in DASHBOARD["panels"] for t in panel["targets"])]}]}
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump(rules))
    checked = promtool("check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
