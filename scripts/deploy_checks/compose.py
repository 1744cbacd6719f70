#!/usr/bin/env python3
"""Checks of deploy/compose that its schema cannot make (scripts/validate-deploy runs this).

The Compose Specification's schema checks each key's shape; this checks that the pieces agree:

- compose.yaml: every `depends_on`, secret, named volume and network it names is defined;
  every bind-mounted file is in the repository; every secret file and env_file under
  ./secrets/ is one `make-secrets` makes (and it makes no other); every picket service runs a
  picket command, and each of its `NAME_FILE` variables names a secret mounted into that service;
- NATS: every NATS server mounts deploy/nats/accounts.conf where its nats.conf includes it and
  reads the users' public keys from the env_file make-secrets writes (every variable
  accounts.conf takes from the environment); every picket service that connects to NATS does
  so as a user of accounts.conf whose permissions are its role's (PICKET_<ROLE>_PERMISSIONS),
  with that user's seed (the secret nats-<role>-seed) as PICKET_NATS_CREDS_FILE;
- deploy/docker/entrypoint.sh leaves alone exactly the settings whose value is a path (the
  code's `env = "PICKET_…_FILE"`): it must not read those files into the variable;
- gateways hand buyers the payment sandbox's checkout page (PICKET_PAYMENTS_CHECKOUT_URL, its
  /checkout on the port compose publishes);
- every picket service has a health check: picket-healthz on the port it listens on;
- prometheus.yml: every target is a compose service at the port that service listens on, and
  every gateway, ledger node and notifier is scraped; the bearer token file is a secret of the
  prometheus service;
- haproxy.cfg: its backend's servers are exactly the gateway services, at their port;
- Grafana: the provisioned datasource has the uid the dashboard names and points at the
  prometheus service; the dashboards provider reads the directory compose mounts
  deploy/grafana/dashboards at;
- deploy/grafana/dashboards/picket.json: every panel has a description in Korean and English,
  the `prometheus` datasource and PromQL; every picket_* metric its PromQL names is one the
  code registers (with a counter's `_total` or a histogram's `_bucket`/`_sum`/`_count`), and
  every label it groups or matches by is one the code sets. `--exprs FILE` also writes the
  expressions as a Prometheus rules file, for `promtool check rules` to parse.

Exits 1 listing every problem found.
"""

import argparse
import json
import re
import sys
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "deploy" / "compose"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "picket.json"
# The crates that register metrics (the binary wires their registries into /metrics).
METRIC_CRATES = ["gateway", "api", "ledger", "payments", "notifier"]
PICKET_COMMANDS = {"gateway", "ledger", "notifier", "sandbox-pay", "up"}
# Which environment variable holds each picket role's listen address.
LISTEN_VARS = {
    "gateway": "PICKET_LISTEN",
    "up": "PICKET_LISTEN",
    "ledger": "PICKET_LEDGER_LISTEN",
    "notifier": "PICKET_NOTIFIER_LISTEN",
    "sandbox-pay": "PICKET_SANDBOX_PAY_LISTEN",
}
# Labels Prometheus itself adds, and the histogram bucket label.
PROMETHEUS_LABELS = {"instance", "job", "le"}
PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset",
}

problems: list[str] = []


def problem(text: str) -> None:
    problems.append(text)


def load_yaml(path: Path):
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def listen_port(service: dict) -> str | None:
    command = service.get("command") or []
    role = command[0] if command else None
    var = LISTEN_VARS.get(role)
    value = (service.get("environment") or {}).get(var) if var else None
    if value is None:
        return None
    return str(value).rsplit(":", 1)[-1]


def is_picket(service: dict, picket_image: str) -> bool:
    return service.get("image") == picket_image


def check_compose(compose: dict) -> dict:
    services = compose.get("services") or {}
    secrets = compose.get("secrets") or {}
    volumes = compose.get("volumes") or {}
    networks = compose.get("networks") or {}
    picket_image = (services.get("gateway-1") or {}).get("image")
    if not picket_image:
        problem("compose.yaml: no gateway-1 service with the picket image")

    for name, service in services.items():
        where = f"compose.yaml: service {name}"
        depends = service.get("depends_on") or {}
        for dependency in depends:
            if dependency not in services:
                problem(f"{where} depends on {dependency}, which is no service")
        for secret in service.get("secrets") or []:
            secret_name = secret if isinstance(secret, str) else secret.get("source")
            if secret_name not in secrets:
                problem(f"{where} mounts the secret {secret_name}, which is not defined")
        for network in service.get("networks") or []:
            if network not in networks:
                problem(f"{where} joins the network {network}, which is not defined")
        for mount in service.get("volumes") or []:
            source = mount.split(":", 1)[0] if isinstance(mount, str) else mount.get("source")
            if source.startswith((".", "/")):
                if not (COMPOSE_DIR / source).resolve().exists():
                    problem(f"{where} mounts {source}, which is not in the repository")
            elif source not in volumes:
                problem(f"{where} mounts the volume {source}, which is not defined")
        if picket_image and is_picket(service, picket_image):
            command = service.get("command") or []
            if not command or command[0] not in PICKET_COMMANDS:
                problem(f"{where} runs {command!r}, not one of picket's {sorted(PICKET_COMMANDS)}")
            mounted = {s if isinstance(s, str) else s.get("source") for s in service.get("secrets") or []}
            for var, value in (service.get("environment") or {}).items():
                if not var.endswith("_FILE"):
                    continue
                match = re.fullmatch(r"/run/secrets/([A-Za-z0-9._-]+)", str(value))
                if not match or match.group(1) not in mounted:
                    problem(f"{where}: {var}={value} names no secret mounted into it")

    made = set(re.findall(r"^put(?:_derived)? ([a-z0-9.-]+) ", (COMPOSE_DIR / "make-secrets").read_text(), re.M))
    declared = set()
    for name, service in services.items():
        env_files = service.get("env_file") or []
        for env_file in [env_files] if isinstance(env_files, str) else env_files:
            path = env_file if isinstance(env_file, str) else env_file.get("path", "")
            match = re.fullmatch(r"\./secrets/([a-z0-9.-]+)", path)
            if match:
                declared.add(match.group(1))
            elif not (COMPOSE_DIR / path).exists():
                problem(f"compose.yaml: service {name} reads the env_file {path}, which is not in the repository")
    for name, secret in secrets.items():
        file = (secret or {}).get("file", "")
        match = re.fullmatch(r"\./secrets/([a-z0-9.-]+)", file)
        if not match:
            problem(f"compose.yaml: the secret {name} is not a file under ./secrets/ ({file!r})")
            continue
        declared.add(match.group(1))
    for missing in sorted(declared - made):
        problem(f"compose.yaml: the secret file secrets/{missing} is not made by make-secrets")
    for extra in sorted(made - declared):
        problem(f"make-secrets makes secrets/{extra}, which compose.yaml does not use")
    return services


def roles(services: dict, role: str) -> dict:
    return {
        name: service
        for name, service in services.items()
        if (service.get("command") or [None])[0] == role
    }


def accounts_users() -> tuple[dict[str, str | None], set[str]]:
    """deploy/nats/accounts.conf's users (public-key variable -> the role of its permission set,
    PICKET_<ROLE>_PERMISSIONS) and the variables it takes from the environment."""
    text = (ROOT / "deploy" / "nats" / "accounts.conf").read_text()
    unquoted = re.sub(r'"[^"]*"', '""', re.sub(r"#.*", "", text))
    defined = set(re.findall(r"^\s*([A-Z][A-Z0-9_]*)\s*[=:]", unquoted, re.M))
    from_env = set(re.findall(r"\$([A-Z][A-Z0-9_]*)", unquoted)) - defined
    users = {}
    for nkey, permissions in re.findall(
            r"\{\s*nkey:\s*\$([A-Z0-9_]+)\s*,\s*permissions:\s*\$([A-Z0-9_]+)\s*\}", unquoted):
        m = re.fullmatch(r"PICKET_([A-Z]+)_PERMISSIONS", permissions)
        users[nkey] = m.group(1).lower() if m else None
    return users, from_env


def check_nats(services: dict, picket_image: str | None) -> None:
    users, from_env = accounts_users()
    if not users:
        problem("deploy/nats/accounts.conf: no `{ nkey: $VAR, permissions: $PICKET_<ROLE>_PERMISSIONS }` users")
    make_secrets = (COMPOSE_DIR / "make-secrets").read_text()
    written = set(re.findall(r"^(?:put_derived nats-users\.env \")?(PICKET_NATS_[A-Z]+_NKEY)=", make_secrets, re.M))
    for var in sorted(from_env - written):
        problem(f"make-secrets: nats-users.env does not set {var}, which deploy/nats/accounts.conf reads")
    conf = (COMPOSE_DIR / "nats" / "nats.conf").read_text()
    includes = re.findall(r"^\s*include\s+\.?/?([\w.-]+)", conf, re.M)
    nats_services = {n: s for n, s in services.items() if "nats-server" in (s.get("command") or [])}
    if not nats_services:
        problem("compose.yaml: no NATS server")
    for name, service in nats_services.items():
        mounts = {}
        for mount in service.get("volumes") or []:
            if isinstance(mount, str) and mount.startswith("."):
                source, target = mount.split(":")[:2]
                mounts[target] = (COMPOSE_DIR / source).resolve()
        conf_dir = next((t.rsplit("/", 1)[0] for t, s in mounts.items() if s.name == "nats.conf"), None)
        for include in includes:
            if mounts.get(f"{conf_dir}/{include}") != (ROOT / "deploy" / "nats" / include).resolve():
                problem(f"compose.yaml: {name} does not mount deploy/nats/{include} at {conf_dir}/{include}, "
                        "which its nats.conf includes")
        if "accounts.conf" not in includes:
            problem("nats.conf: does not include accounts.conf: any client could connect and publish anything")
        env_files = service.get("env_file") or []
        env_files = [env_files] if isinstance(env_files, str) else env_files
        if "./secrets/nats-users.env" not in [e if isinstance(e, str) else e.get("path") for e in env_files]:
            problem(f"compose.yaml: {name} does not read the users' public keys (env_file ./secrets/nats-users.env)")
    for name, service in services.items():
        if not picket_image or not is_picket(service, picket_image):
            continue
        env = service.get("environment") or {}
        if "PICKET_NATS_URL" not in env:
            continue
        role = (service.get("command") or [None])[0]
        where = f"compose.yaml: service {name}"
        creds = str(env.get("PICKET_NATS_CREDS_FILE", ""))
        match = re.fullmatch(r"/run/secrets/nats-([a-z]+)-seed", creds)
        if not match:
            problem(f"{where} connects to NATS without PICKET_NATS_CREDS_FILE=/run/secrets/nats-<user>-seed")
            continue
        user = match.group(1)
        var = f"PICKET_NATS_{user.upper()}_NKEY"
        if var not in users:
            problem(f"{where} connects to NATS as {user}, a user deploy/nats/accounts.conf lacks")
        elif users[var] != role:
            problem(f"{where} runs `picket {role}` as the NATS user {user}, whose permissions are {users[var]}'s")
        if "@" in str(env.get("PICKET_NATS_URL")):
            problem(f"{where}: PICKET_NATS_URL carries a user: the seed is the credential")


def check_entrypoint() -> None:
    text = (ROOT / "deploy" / "docker" / "entrypoint.sh").read_text()
    match = re.search(r'^path_settings="([A-Z0-9_ ]*)"', text, re.M)
    listed = set(match.group(1).split()) if match else set()
    code = set()
    for path in (ROOT / "src").rglob("*.rs"):
        code.update(re.findall(r'env\s*=\s*"(PICKET_[A-Z0-9_]*_FILE)"', path.read_text(encoding="utf-8")))
    if not code:
        problem("no `env = \"PICKET_…_FILE\"` setting found in src/ (the check itself is broken)")
    for name in sorted(code - listed):
        problem(f"deploy/docker/entrypoint.sh: path_settings lacks {name}, a path picket opens: "
                "the entrypoint would replace the path with the file's content")
    for name in sorted(listed - code):
        problem(f"deploy/docker/entrypoint.sh: path_settings lists {name}, which src/ does not read")


def check_checkout(services: dict) -> None:
    sandbox = services.get("sandbox-pay") or {}
    published = next((str(p).rsplit(":", 1)[0].split(":", 1)[-1] for p in sandbox.get("ports") or []
                      if str(p).endswith(":" + str(listen_port(sandbox)))), None)
    for name, service in roles(services, "gateway").items():
        url = str((service.get("environment") or {}).get("PICKET_PAYMENTS_CHECKOUT_URL", ""))
        if not sandbox:
            continue
        if published is None:
            problem("compose.yaml: sandbox-pay publishes no port: buyers' browsers cannot reach its checkout")
        elif not re.fullmatch(r"https?://(localhost|127\.0\.0\.1):" + re.escape(published) + "/checkout", url):
            problem(f"compose.yaml: {name}'s PICKET_PAYMENTS_CHECKOUT_URL {url!r} is not the sandbox's "
                    f"checkout page on its published port (http://localhost:{published}/checkout)")


def check_healthchecks(services: dict) -> None:
    picket_image = (services.get("gateway-1") or {}).get("image")
    for name, service in services.items():
        if not picket_image or not is_picket(service, picket_image):
            continue
        port = listen_port(service)
        test = (service.get("healthcheck") or {}).get("test") or []
        if port is None:
            problem(f"compose.yaml: service {name} sets no listen address ({LISTEN_VARS}): nothing to check it by")
        elif list(test) != ["CMD", "picket-healthz", port]:
            problem(f"compose.yaml: service {name}'s healthcheck is {list(test)!r}, "
                    f"not its /healthz (picket-healthz {port})")


def check_prometheus(services: dict) -> None:
    config = load_yaml(COMPOSE_DIR / "prometheus" / "prometheus.yml")
    scraped = set()
    prometheus_secrets = set(services.get("prometheus", {}).get("secrets") or [])
    for job in config.get("scrape_configs") or []:
        name = job.get("job_name")
        credentials = (job.get("authorization") or {}).get("credentials_file")
        if credentials:
            match = re.fullmatch(r"/run/secrets/([A-Za-z0-9._-]+)", credentials)
            if not match or match.group(1) not in prometheus_secrets:
                problem(f"prometheus.yml: job {name} reads {credentials}, no secret of the prometheus service")
        for static in job.get("static_configs") or []:
            for target in static.get("targets") or []:
                host, _, port = target.rpartition(":")
                if host == "localhost" and name == "prometheus":
                    continue
                if host not in services:
                    problem(f"prometheus.yml: job {name} scrapes {target}, but {host} is no compose service")
                    continue
                scraped.add(host)
                expected = listen_port(services[host])
                if expected is not None and port != expected:
                    problem(f"prometheus.yml: job {name} scrapes {target}, but {host} listens on {expected}")
    for role in ("gateway", "ledger", "notifier"):
        for name in roles(services, role):
            if name not in scraped:
                problem(f"prometheus.yml: the {role} {name} is not scraped")
    gateway_jobs = [
        job for job in config.get("scrape_configs") or []
        if any(t.rpartition(":")[0] in roles(services, "gateway")
               for s in job.get("static_configs") or [] for t in s.get("targets") or [])
    ]
    for job in gateway_jobs:
        if not (job.get("authorization") or {}).get("credentials_file"):
            problem(f"prometheus.yml: job {job.get('job_name')} scrapes gateways without the operator token")


def check_haproxy(services: dict) -> None:
    text = (COMPOSE_DIR / "haproxy" / "haproxy.cfg").read_text()
    servers = {}
    for name, address in re.findall(r"^\s*server\s+(\S+)\s+(\S+)", text, re.M):
        servers[name] = address
    gateways = roles(services, "gateway")
    if set(servers) != set(gateways):
        problem(f"haproxy.cfg: its servers {sorted(servers)} are not the gateways {sorted(gateways)}")
    for name, address in servers.items():
        host, _, port = address.rpartition(":")
        if name in gateways and (host != name or port != listen_port(gateways[name])):
            problem(f"haproxy.cfg: server {name} is at {address}, the gateway listens on {name}:{listen_port(gateways[name])}")


def check_grafana(services: dict) -> None:
    provisioning = COMPOSE_DIR / "grafana" / "provisioning"
    datasources = load_yaml(provisioning / "datasources" / "prometheus.yaml")
    uids = {d.get("uid"): d for d in datasources.get("datasources") or []}
    source = uids.get("prometheus")
    if not source:
        problem("grafana: no provisioned datasource has the uid prometheus")
    else:
        host = re.sub(r"^https?://", "", source.get("url", "")).split(":")[0]
        if host not in services:
            problem(f"grafana: the datasource's URL {source.get('url')} is no compose service")
    providers = load_yaml(provisioning / "dashboards" / "picket.yaml")
    paths = {(p.get("options") or {}).get("path") for p in providers.get("providers") or []}
    mounts = {}
    for mount in services.get("grafana", {}).get("volumes") or []:
        source_path, target = mount.split(":")[:2]
        mounts[target] = source_path
    dashboards_source = mounts.get(next(iter(paths), None))
    if dashboards_source is None or (COMPOSE_DIR / dashboards_source).resolve() != DASHBOARD.parent:
        problem(f"grafana: the provider reads {sorted(paths)}, where compose does not mount deploy/grafana/dashboards")


def code_metrics() -> tuple[set[str], set[str]]:
    """The metric names the code registers (prefix + name) and the label names it sets."""
    names, labels = set(), set()
    for crate in METRIC_CRATES:
        for path in (ROOT / crate).rglob("*.rs"):
            if "target" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            prefix = re.search(r'sub_registry_with_prefix\(\s*"([a-z_]+)"\s*\)', text)
            if prefix:
                for name in re.findall(r'\.register\(\s*"([a-z_]+)"', text):
                    names.add(f"{prefix.group(1)}_{name}")
            for body in re.findall(r"EncodeLabelSet\)\]\s*pub struct \w+\s*\{([^}]*)\}", text):
                labels.update(re.findall(r"pub (\w+):", body))
            if "metrics" in text:
                for line in text.splitlines():
                    if "vec![(" in line:
                        labels.update(re.findall(r'\(\s*"([a-z_]+)"\s*,', line))
    return names, labels


def exported(metric: str, names: set[str]) -> bool:
    if metric in names:
        return True
    for suffix in ("_total", "_bucket", "_sum", "_count"):
        if metric.endswith(suffix) and metric[: -len(suffix)] in names:
            return True
    return False


def check_dashboard(exprs_out: Path | None) -> None:
    try:
        dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        problem(f"{DASHBOARD.relative_to(ROOT)}: {error}")
        return
    names, labels = code_metrics()
    if not names:
        problem("no metric registrations found in the code (the check itself is broken)")
    if not dashboard.get("uid"):
        problem("picket.json: no uid")
    ids = set()
    exprs = []
    panels = dashboard.get("panels") or []
    for panel in panels:
        title = panel.get("title", "?")
        if panel.get("id") in ids:
            problem(f"picket.json: panel id {panel.get('id')} twice")
        ids.add(panel.get("id"))
        grid = panel.get("gridPos") or {}
        if grid.get("x", 0) + grid.get("w", 0) > 24:
            problem(f"picket.json: panel {title!r} is wider than the dashboard")
        if panel.get("type") == "row":
            continue
        description = panel.get("description", "")
        if not re.search(r"[\uac00-\ud7a3]", description) or not re.search(r"\b(Alert|alert|No alert)\b", description):
            problem(f"picket.json: panel {title!r} needs a description in Korean and English saying what an alert means")
        if (panel.get("datasource") or {}).get("uid") != "prometheus":
            problem(f"picket.json: panel {title!r} does not use the datasource uid prometheus")
        targets = panel.get("targets") or []
        if not targets:
            problem(f"picket.json: panel {title!r} has no query")
        for target in targets:
            expr = target.get("expr", "")
            if (target.get("datasource") or {}).get("uid") != "prometheus":
                problem(f"picket.json: a query of {title!r} does not use the datasource uid prometheus")
            if "picket_" not in expr:
                problem(f"picket.json: a query of {title!r} reads no picket metric: {expr!r}")
            exprs.append((title, expr))
            for metric in set(re.findall(r"\bpicket_[a-z0-9_]+", expr)):
                if not exported(metric, names):
                    problem(f"picket.json: {title!r} reads {metric}, which the code does not export")
            used = set()
            for group in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr):
                used.update(l.strip() for l in group.split(",") if l.strip())
            for matchers in re.findall(r"\{([^}]*)\}", expr):
                used.update(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", matchers))
            for label in sorted(used - labels - PROMETHEUS_LABELS - PROMQL_WORDS):
                problem(f"picket.json: {title!r} uses the label {label}, which the code does not set")
    if exprs_out is not None:
        rules = {"groups": [{"name": "picket-dashboard", "rules": [
            {"record": f"picket_dashboard:query_{i}", "expr": expr} for i, (_, expr) in enumerate(exprs)
        ]}]}
        exprs_out.write_text(json.dumps(rules, indent=1, ensure_ascii=False))
    print(f"picket.json: {len(panels)} panels, {len(exprs)} queries, metrics and labels as the code registers them")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exprs", type=Path, help="write the dashboard's PromQL as a rules file here")
    args = parser.parse_args()
    compose = load_yaml(COMPOSE_DIR / "compose.yaml")
    services = check_compose(compose)
    check_nats(services, (services.get("gateway-1") or {}).get("image"))
    check_entrypoint()
    check_checkout(services)
    check_healthchecks(services)
    check_prometheus(services)
    check_haproxy(services)
    check_grafana(services)
    check_dashboard(args.exprs)
    if problems:
        print(f"{len(problems)} deploy/compose problems:", file=sys.stderr)
        for text in problems:
            print(f"  {text}", file=sys.stderr)
        return 1
    print(f"compose.yaml: {len(services)} services; its secrets, volumes, mounts, Prometheus targets, "
          "HAProxy servers and Grafana provisioning agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
