#!/usr/bin/env python3
"""Offline checks of deploy/k8s, run by scripts/validate-deploy (its "k8s" section).

    manifests.py split RENDERED OUT_DIR
        One file per object of a kustomize rendering: OUT_DIR/builtin/*.yaml (Kubernetes'
        own kinds, for kubernetes-validate) and OUT_DIR/custom/<schema>/*.yaml (custom
        resources, for check-jsonschema with deploy/k8s/schemas/<schema>.json). A custom
        resource without a committed schema fails.
    manifests.py invariants RENDERED --secrets FILE [--secrets-again FILE]
        What a schema cannot say: every container declares a port and has resources, probes
        and a pinned image, and runs as non-root on a read-only root file system; every
        picket role that serves /metrics is scraped by a ServiceMonitor; no Secret is in the rendering and
        every reference to one names a Secret that create-secrets, cert-manager or
        CloudNativePG makes; ledger groups keep leader and standby on different nodes and
        cover every partition; a gateway's termination grace outlasts its drain; the HPA
        scales on the gateway's real connections gauge; network policies deny by default;
        every Picket setting a container names is one its role's command reads.
    manifests.py helm-values RENDERED --secrets FILE
        The NATS and prometheus-adapter values agree with the rendering, the Secrets and the
        code; the NATS users are deploy/nats/accounts.conf's NKey users, each role connecting
        as its own with the seed whose public key the servers read.
    manifests.py break RENDERED FAULT OUT
        A copy of a rendering with one fault put in (FAULTS below), for the script's own
        check that each validation can fail.

Figures the checks compare against (the gateway's drain and close timeouts, its
connections_max, the metric names, the settings the roles read) are read from the Rust
sources, not repeated here. Exit status 1 and one line per problem when anything fails.
"""

import argparse
import os
import re
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
K8S = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(K8S))
SCHEMAS = os.path.join(K8S, "schemas")

NAMESPACE = "picket"
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
# API groups Kubernetes itself serves (kubernetes-validate has their schemas).
BUILTIN_GROUPS = {
    "", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "rbac.authorization.k8s.io",
    "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io",
    "admissionregistration.k8s.io", "apiextensions.k8s.io", "node.k8s.io", "certificates.k8s.io",
}
# Settings and commands the manifests may name before the code has them (a branch that adds
# them is not merged yet): allowed while the code lacks them; once it has one, the checks say
# so and the name comes off. Empty: every setting and command the manifests name is the code's.
SETTINGS_PENDING: set[str] = set()
COMMANDS_PENDING: set[str] = set()
# Secrets made outside the rendering, with their keys.
CERT_MANAGER_KEYS = {"ca.crt", "tls.crt", "tls.key"}
CNPG_APP_KEYS = {"username", "password", "host", "port", "dbname", "uri", "jdbc-uri", "pgpass"}


class Problems:
    def __init__(self):
        self.lines = []

    def add(self, where, text):
        self.lines.append(f"{where}: {text}")

    def finish(self, what):
        if self.lines:
            for line in self.lines:
                print(f"FAIL {line}", file=sys.stderr)
            print(f"{what}: {len(self.lines)} problem(s)", file=sys.stderr)
            sys.exit(1)
        print(f"{what}: ok")


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def ident(obj):
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def group_version(api_version):
    if "/" in api_version:
        group, version = api_version.split("/", 1)
    else:
        group, version = "", api_version
    return group, version


def schema_name(obj):
    group, version = group_version(obj["apiVersion"])
    return f"{obj['kind'].lower()}-{group}-{version}"


def read(path):
    with open(os.path.join(REPO, path)) as f:
        return f.read()


# ---------------------------------------------------------------- split


def split(rendered, out_dir):
    problems = Problems()
    docs = load_all(rendered)
    os.makedirs(os.path.join(out_dir, "builtin"), exist_ok=True)
    counts = {}
    for n, obj in enumerate(docs):
        group, _ = group_version(obj.get("apiVersion", ""))
        name = f"{n:03d}-{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
        if group in BUILTIN_GROUPS:
            target = os.path.join(out_dir, "builtin", name)
        else:
            schema = schema_name(obj)
            if not os.path.exists(os.path.join(SCHEMAS, schema + ".json")):
                problems.add(ident(obj), f"custom resource {obj['apiVersion']} has no schema "
                             f"deploy/k8s/schemas/{schema}.json")
                continue
            os.makedirs(os.path.join(out_dir, "custom", schema), exist_ok=True)
            target = os.path.join(out_dir, "custom", schema, name)
        with open(target, "w") as f:
            yaml.safe_dump(obj, f, sort_keys=False)
        key = "builtin" if group in BUILTIN_GROUPS else schema_name(obj)
        counts[key] = counts.get(key, 0) + 1
    problems.finish(f"split {len(docs)} objects ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})")


# ---------------------------------------------------------------- facts from the code


def code_settings():
    """Every environment variable a `picket` command reads (`env = "…"` in src/)."""
    names = set()
    for root, _, files in os.walk(os.path.join(REPO, "src")):
        for file in files:
            if file.endswith(".rs"):
                with open(os.path.join(root, file)) as f:
                    names.update(re.findall(r'env\s*=\s*"([A-Z0-9_]+)"', f.read()))
    return names


def rust_structs():
    """Every `struct Name { … }` of src/: its `env = "…"` settings and its flattened types."""
    structs = {}
    for root, _, files in os.walk(os.path.join(REPO, "src")):
        for file in files:
            if not file.endswith(".rs"):
                continue
            with open(os.path.join(root, file)) as f:
                source = f.read()
            for m in re.finditer(r"\bstruct (\w+)\s*\{", source):
                depth, i = 1, m.end()
                while depth and i < len(source):
                    depth += {"{": 1, "}": -1}.get(source[i], 0)
                    i += 1
                body = source[m.end():i]
                flattened = re.findall(r"#\[command\(flatten\)\]\s*(?:pub(?:\([a-z]+\))?\s+)?\w+:\s*"
                                       r"(?:Box<)?([\w:]+)", body)
                structs.setdefault(m.group(1), []).append({
                    "settings": set(re.findall(r'env\s*=\s*"([A-Z0-9_]+)"', body)),
                    "flatten": {f.rsplit("::", 1)[-1] for f in flattened},
                })
    return structs


def role_settings():
    """The settings each `picket` command reads: its arguments' struct (the variant's type in
    `enum Command` of src/main.rs) with every struct it flattens, recursively."""
    source = read("src/main.rs")
    body = re.search(r"enum Command \{(.*?)\n\}", source, re.S)
    if not body:
        raise SystemExit("src/main.rs: no `enum Command` found; update deploy/k8s/checks/manifests.py")
    structs = rust_structs()
    roles = {}
    for variant, ty in re.findall(r"^\s{4}([A-Z][A-Za-z]*)\((?:Box<)?([\w:]+)>?\)", body.group(1), re.M):
        name = ty.rsplit("::", 1)[-1]
        command = re.sub(r"(?<!^)([A-Z])", r"-\1", variant).lower()
        if name not in structs:
            # Another crate's arguments (picket loadtest): no deployment runs it.
            continue
        settings, todo, seen = set(), [name], set()
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            if current not in structs:
                raise SystemExit(f"src/: `picket {command}` flattens {current}, which is no struct of src/; "
                                 "update deploy/k8s/checks/manifests.py")
            for definition in structs[current]:
                settings |= definition["settings"]
                todo.extend(definition["flatten"])
        # A command of subcommands (`picket payments reconcile`) has its settings one level
        # down: no deployment runs one, and the settings check falls back to every command's.
        if settings:
            roles[command] = settings
    return roles


def code_commands():
    """The `picket` subcommands: the variants of `enum Command` in src/main.rs, kebab-cased."""
    source = read("src/main.rs")
    body = re.search(r"enum Command \{(.*?)\n\}", source, re.S)
    if not body:
        raise SystemExit("src/main.rs: no `enum Command` found; update deploy/k8s/checks/manifests.py")
    variants = re.findall(r"^\s{4}([A-Z][A-Za-z]*)\s*[({,]", body.group(1), re.M)
    return {re.sub(r"(?<!^)([A-Z])", r"-\1", v).lower() for v in variants}


def duration_secs(source, field):
    """A `field: Duration::from_secs(N)` / `from_millis(N)` default of GatewayConfig::new."""
    m = re.search(field + r":\s*Duration::from_(secs|millis)\(([0-9_]+)\)", source)
    if not m:
        raise SystemExit(f"gateway/src/config.rs: no `{field}: Duration::from_…(…)` default found; "
                         "update deploy/k8s/checks/manifests.py")
    value = int(m.group(2).replace("_", ""))
    return value if m.group(1) == "secs" else value / 1000


def gateway_defaults():
    source = read("gateway/src/config.rs")
    m = re.search(r"connections_max:\s*([0-9_]+),", source)
    if not m:
        raise SystemExit("gateway/src/config.rs: no connections_max default found")
    return {
        "drain_timeout": duration_secs(source, "drain_timeout"),
        "close_timeout": duration_secs(source, "close_timeout"),
        "connections_max": int(m.group(1).replace("_", "")),
    }


def gateway_metric_names():
    """The gateway's metric names: its registry prefix joined to each registered name."""
    source = read("gateway/src/metrics.rs")
    prefix = re.search(r'sub_registry_with_prefix\("([a-z_]+)"\)', source)
    if not prefix:
        raise SystemExit("gateway/src/metrics.rs: no sub_registry_with_prefix found")
    names = re.findall(r'register\(\s*"([a-z_]+)"', source)
    return {f"{prefix.group(1)}_{name}" for name in names}


# ---------------------------------------------------------------- helpers


def matches(selector, labels):
    """Whether a LabelSelector (or a Service's plain selector map) selects these labels."""
    if selector is None:
        return False
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        plain = selector
        return bool(plain) and all(labels.get(k) == v for k, v in plain.items())
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def pod_template(obj):
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]
    return obj["spec"]["template"]


def env_value(container, name):
    for env in container.get("env") or []:
        if env["name"] == name:
            return env.get("value")
    return None


def quantity_ok(value):
    return value is not None and str(value) != ""


class Rendering:
    def __init__(self, docs, secrets):
        self.docs = docs
        self.by_kind = {}
        for obj in docs:
            self.by_kind.setdefault(obj["kind"], []).append(obj)
        self.configmaps = {o["metadata"]["name"]: o.get("data") or {} for o in self.by_kind.get("ConfigMap", [])}
        # Secrets by name with their keys: create-secrets', cert-manager's, CloudNativePG's.
        self.secrets = {}
        for s in secrets:
            self.secrets[s["metadata"]["name"]] = set((s.get("stringData") or {}).keys()) | set((s.get("data") or {}).keys())
        for c in self.by_kind.get("Certificate", []):
            self.secrets[c["spec"]["secretName"]] = set(CERT_MANAGER_KEYS)
        for c in self.by_kind.get("Cluster", []):
            self.secrets[c["metadata"]["name"] + "-app"] = set(CNPG_APP_KEYS)

    def workloads(self):
        return [o for o in self.docs if o["kind"] in WORKLOAD_KINDS]

    def component(self, name):
        return [o for o in self.workloads()
                if pod_template(o)["metadata"].get("labels", {}).get("app.kubernetes.io/component") == name
                and pod_template(o)["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "picket"]

    def picket_shared(self, key):
        return self.configmaps.get("picket-shared", {}).get(key)


# ---------------------------------------------------------------- invariants


def check_objects(r, p):
    for obj in r.docs:
        if obj["kind"] == "Secret":
            p.add(ident(obj), "a Secret in the manifests: its value would be in the repository "
                  "(create-secrets, cert-manager or CloudNativePG makes Secrets at install time)")
        if obj["kind"] != "Namespace" and obj["metadata"].get("namespace") != NAMESPACE:
            p.add(ident(obj), f"not in the namespace {NAMESPACE}")


def check_secret_values(secrets, secrets_again, p):
    """create-secrets makes every value at random: two runs share none."""
    first = {(s["metadata"]["name"], k): v for s in secrets for k, v in (s.get("stringData") or {}).items()}
    again = {(s["metadata"]["name"], k): v for s in secrets_again for k, v in (s.get("stringData") or {}).items()}
    if set(first) != set(again):
        p.add("create-secrets", "two runs made different Secrets or keys")
    for key, value in first.items():
        if again.get(key) == value:
            p.add(f"Secret/{key[0]}", f"{key[1]} has the same value in two runs: a fixed value, not a fresh one")
        if len(value) < 16:
            p.add(f"Secret/{key[0]}", f"{key[1]} is shorter than 16 characters")


def is_picket(container):
    """Whether a container runs the `picket` image (whatever registry the overlay names)."""
    return container.get("image", "").rsplit("/", 1)[-1].split(":")[0].split("@")[0] == "picket"


def check_containers(r, p, settings, roles, commands):
    for obj in r.workloads():
        template = pod_template(obj)
        spec = template["spec"]
        pod_sc = spec.get("securityContext") or {}
        annotations = template["metadata"].get("annotations") or {}
        if (pod_sc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            p.add(ident(obj), "pod securityContext.seccompProfile.type is not RuntimeDefault")
        if spec.get("automountServiceAccountToken") is not False and obj["metadata"]["name"].startswith("picket-"):
            p.add(ident(obj), "automountServiceAccountToken is not false (no Picket process talks to the API server)")
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        for volume in volumes.values():
            if "secret" in volume:
                check_secret_ref(r, p, ident(obj), volume["secret"]["secretName"], None)
                for item in volume["secret"].get("items") or []:
                    check_secret_ref(r, p, f"{ident(obj)} volume {volume['name']}",
                                     volume["secret"]["secretName"], item["key"])
            if "configMap" in volume and volume["configMap"]["name"] not in r.configmaps:
                p.add(ident(obj), f"volume {volume['name']}: no ConfigMap {volume['configMap']['name']}")
        containers = (spec.get("initContainers") or []) + spec["containers"]
        for c in containers:
            where = f"{ident(obj)} container {c['name']}"
            check_resources(c, where, p)
            check_image(c, where, p)
            check_security(c, pod_sc, annotations, where, p)
            check_probes(c, annotations, where, p)
            command = (c.get("args") or c.get("command") or [None])[0] if is_picket(c) else None
            check_env(r, c, where, p, settings, roles.get(command), command)
            if is_picket(c):
                if command in commands and command in COMMANDS_PENDING:
                    p.add(where, f"`picket {command}` exists now: take it off COMMANDS_PENDING")
                elif command not in commands and command not in COMMANDS_PENDING:
                    p.add(where, f"runs `picket {command}`, which is no command of src/main.rs")
            for mount in c.get("volumeMounts") or []:
                if mount["name"] not in volumes and not is_claim(obj, mount["name"]):
                    p.add(where, f"mounts {mount['name']}, which is no volume of the pod")


def is_claim(obj, name):
    return any(t["metadata"]["name"] == name for t in obj["spec"].get("volumeClaimTemplates") or [])


def check_resources(c, where, p):
    res = c.get("resources") or {}
    requests, limits = res.get("requests") or {}, res.get("limits") or {}
    for key in ("cpu", "memory"):
        if not quantity_ok(requests.get(key)):
            p.add(where, f"no resources.requests.{key}")
    if not quantity_ok(limits.get("memory")):
        p.add(where, "no resources.limits.memory")


def check_image(c, where, p):
    image = c.get("image", "")
    last = image.rsplit("/", 1)[-1]
    if "@sha256:" in image:
        return
    if ":" not in last:
        p.add(where, f"image {image!r} has no tag")
    elif last.rsplit(":", 1)[1] in ("latest", ""):
        p.add(where, f"image {image!r} uses the latest tag")


def check_security(c, pod_sc, annotations, where, p):
    sc = c.get("securityContext") or {}
    non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
    user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    if non_root is not True:
        p.add(where, "does not set runAsNonRoot: true")
    if user == 0:
        p.add(where, "runs as user 0")
    if sc.get("allowPrivilegeEscalation") is not False:
        p.add(where, "allowPrivilegeEscalation is not false")
    if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
        p.add(where, "does not drop ALL capabilities")
    if sc.get("readOnlyRootFilesystem") is not True and not annotations.get("picket.dev/writable-root-reason"):
        p.add(where, "root file system is not read-only (and no picket.dev/writable-root-reason)")
    if sc.get("privileged"):
        p.add(where, "is privileged")


def check_probes(c, annotations, where, p):
    ports = {port.get("name") for port in c.get("ports") or []} | {port["containerPort"] for port in c.get("ports") or []}
    if not c.get("ports"):
        # Every Picket role serves /healthz, and every other container here a port of its own.
        p.add(where, "declares no port: nothing for a probe or Prometheus to ask")
        return
    for kind in ("readinessProbe", "livenessProbe"):
        probe = c.get(kind)
        if not probe:
            p.add(where, f"no {kind}")
            continue
    for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
        probe = c.get(kind) or {}
        for handler in ("httpGet", "tcpSocket", "grpc"):
            if handler in probe and probe[handler].get("port") not in ports:
                p.add(where, f"{kind} asks port {probe[handler].get('port')!r}, which the container does not declare")


def check_secret_ref(r, p, where, name, key):
    keys = r.secrets.get(name)
    if keys is None:
        p.add(where, f"refers to Secret {name}, which neither create-secrets, cert-manager nor CloudNativePG makes")
    elif key is not None and key not in keys:
        p.add(where, f"refers to key {key} of Secret {name}, which has only {sorted(keys)}")


def check_env(r, c, where, p, settings, role_reads, command):
    defined = []
    for source in c.get("envFrom") or []:
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            if name not in r.configmaps:
                p.add(where, f"envFrom ConfigMap {name}, which is not in the manifests")
            defined += list(r.configmaps.get(name, {}).keys())
        if "secretRef" in source:
            name = source["secretRef"]["name"]
            check_secret_ref(r, p, where, name, None)
            defined += list(r.secrets.get(name, set()))
    for env in c.get("env") or []:
        value = env.get("value")
        if value is not None:
            for ref in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", value):
                if ref not in defined:
                    p.add(where, f"{env['name']} refers to $({ref}), which is not set before it "
                          "(Kubernetes would pass the text unexpanded)")
        source = env.get("valueFrom") or {}
        if "secretKeyRef" in source:
            check_secret_ref(r, p, where, source["secretKeyRef"]["name"], source["secretKeyRef"]["key"])
        if "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            if ref["key"] not in r.configmaps.get(ref["name"], {}):
                p.add(where, f"{env['name']} refers to key {ref['key']} of ConfigMap {ref['name']}, which is not there")
        defined.append(env["name"])
    if not is_picket(c):
        return
    for name in set(defined):
        if not (name.startswith("PICKET_") or name.startswith("DATABASE_")):
            continue
        if name in settings and name in SETTINGS_PENDING:
            p.add(where, f"{name} is read by the code now: take it off SETTINGS_PENDING")
        elif name not in settings and name not in SETTINGS_PENDING:
            p.add(where, f"sets {name}, which no `picket` command reads (src/: env = \"…\")")
        elif role_reads is not None and name not in role_reads and name not in SETTINGS_PENDING:
            # Another role's setting: harmless to clap, but it says something false about this
            # container (a ConfigMap shared too widely, a setting put in the wrong place).
            p.add(where, f"sets {name}, which `picket {command}` does not read (another role's setting)")


def check_ledger(r, p):
    groups = [o for o in r.component("ledger") if o["kind"] == "StatefulSet"]
    if not groups:
        p.add("ledger", "no ledger StatefulSet (an overlay instantiates base/ledger-group)")
        return
    partitions = r.picket_shared("PICKET_PARTITIONS")
    try:
        count = int(partitions)
    except (TypeError, ValueError):
        p.add("ConfigMap/picket-shared", f"PICKET_PARTITIONS is not a number: {partitions!r}")
        return
    hosted = {}
    for sts in groups:
        where = ident(sts)
        template = pod_template(sts)
        labels = template["metadata"].get("labels") or {}
        container = next((c for c in template["spec"]["containers"] if c["name"] == "ledger"), None)
        if container is None or (container.get("args") or [None])[0] != "ledger":
            p.add(where, "has no container running `picket ledger`")
            continue
        if (sts["spec"].get("replicas") or 1) < 2:
            p.add(where, "fewer than 2 replicas: a partition needs a leader and a standby")
        terms = (((template["spec"].get("affinity") or {}).get("podAntiAffinity") or {})
                 .get("requiredDuringSchedulingIgnoredDuringExecution") or [])
        own = [t for t in terms if t.get("topologyKey") == "kubernetes.io/hostname"
               and matches(t.get("labelSelector"), labels)]
        if not own:
            p.add(where, "no required pod anti-affinity on kubernetes.io/hostname that selects its own pods: "
                  "leader and standby could share a node")
        if not any(matches(sts["spec"]["selector"], labels) for _ in [0]):
            p.add(where, "its selector does not select its own pods")
        value = env_value(container, "PICKET_HOST_PARTITIONS")
        if value is None:
            p.add(where, "no PICKET_HOST_PARTITIONS: every group would host every partition")
            continue
        try:
            mine = [int(x) for x in str(value).split(",")]
        except ValueError:
            p.add(where, f"PICKET_HOST_PARTITIONS is not a list of numbers: {value!r}")
            continue
        for part in mine:
            if not 0 <= part < count:
                p.add(where, f"hosts partition {part}, outside 0..{count - 1} (PICKET_PARTITIONS {count})")
            if part in hosted:
                p.add(where, f"hosts partition {part}, which {hosted[part]} hosts too (one group per partition)")
            hosted[part] = where
        pdbs = [b for b in r.by_kind.get("PodDisruptionBudget", []) if matches(b["spec"].get("selector"), labels)]
        if not pdbs:
            p.add(where, "no PodDisruptionBudget: a drain could take leader and standby at once")
        for b in pdbs:
            if b["spec"].get("maxUnavailable") not in (1, "1") and not b["spec"].get("minAvailable"):
                p.add(ident(b), "a ledger group's budget must keep all but one node (maxUnavailable: 1)")
    for part in range(count):
        if part not in hosted:
            p.add("ledger", f"no group hosts partition {part} of {count}")


def check_gateway(r, p, defaults, metric_names):
    gateways = [o for o in r.component("gateway") if o["kind"] == "Deployment"]
    if len(gateways) != 1:
        p.add("gateway", f"expected one gateway Deployment, found {len(gateways)}")
        return
    gw = gateways[0]
    where = ident(gw)
    template = pod_template(gw)
    labels = template["metadata"]["labels"]
    container = next(c for c in template["spec"]["containers"] if c["name"] == "gateway")
    if (container.get("args") or [None])[0] != "gateway":
        p.add(where, "its container does not run `picket gateway`")
    pre_stop = ((container.get("lifecycle") or {}).get("preStop") or {})
    if "sleep" in pre_stop:
        pre_stop_secs = int(pre_stop["sleep"]["seconds"])
    else:
        p.add(where, "no preStop sleep: balancers would still send new connections to a draining gateway")
        pre_stop_secs = 0
    grace = template["spec"].get("terminationGracePeriodSeconds", 30)
    needed = pre_stop_secs + defaults["drain_timeout"] + defaults["close_timeout"]
    # Room for the API's and the stores' own shutdown after the sockets are closed.
    margin = 5
    if grace < needed + margin:
        p.add(where, f"terminationGracePeriodSeconds {grace} s does not outlast preStop {pre_stop_secs} s + "
              f"drain_timeout {defaults['drain_timeout']:g} s + close_timeout {defaults['close_timeout']:g} s "
              f"+ {margin} s: clients would be cut off before they are told to reconnect")
    if "replicas" in gw["spec"]:
        p.add(where, "sets replicas: the HPA owns it, and an apply would reset it mid-opening")
    if (container.get("readinessProbe") or {}).get("httpGet", {}).get("path") != "/healthz":
        p.add(where, "readiness is not the gateway's /healthz")
    connections_max = int(r.configmaps.get("picket-gateway", {}).get("PICKET_CONNECTIONS_MAX", defaults["connections_max"]))
    hpas = [h for h in r.by_kind.get("HorizontalPodAutoscaler", [])
            if h["spec"]["scaleTargetRef"]["kind"] == "Deployment" and h["spec"]["scaleTargetRef"]["name"] == gw["metadata"]["name"]]
    if len(hpas) != 1:
        p.add(where, f"expected one HorizontalPodAutoscaler, found {len(hpas)}")
    for hpa in hpas:
        hw = ident(hpa)
        if hpa["spec"].get("minReplicas", 1) < 2:
            p.add(hw, "minReplicas below 2: one gateway's drain would leave nobody to reconnect to")
        pods = [m for m in hpa["spec"].get("metrics") or [] if m["type"] == "Pods"]
        cpu = [m for m in hpa["spec"].get("metrics") or [] if m["type"] == "Resource" and m["resource"]["name"] == "cpu"]
        if not cpu:
            p.add(hw, "does not scale on CPU")
        if len(pods) != 1:
            p.add(hw, "does not scale on connections per pod")
        for m in pods:
            name = m["pods"]["metric"]["name"]
            if name not in metric_names:
                p.add(hw, f"scales on {name}, which the gateway does not export (gateway/src/metrics.rs)")
            if name != "picket_gateway_connections":
                p.add(hw, f"scales on {name}, not the open WebSockets gauge picket_gateway_connections")
            target = m["pods"]["target"]
            if target.get("type") != "AverageValue":
                p.add(hw, "the connections target is not an AverageValue per pod")
            else:
                value = int(str(target["averageValue"]))
                if not 0 < value < connections_max:
                    p.add(hw, f"targets {value} connections per pod, not below PICKET_CONNECTIONS_MAX {connections_max}")
    if not any(matches(b["spec"].get("selector"), labels) for b in r.by_kind.get("PodDisruptionBudget", [])):
        p.add(where, "no PodDisruptionBudget")
    monitors = [m for m in r.by_kind.get("ServiceMonitor", []) if any(
        matches(m["spec"]["selector"], s["metadata"].get("labels") or {}) and matches(s["spec"].get("selector"), labels)
        for s in r.by_kind.get("Service", []))]
    if not monitors:
        p.add(where, "no ServiceMonitor scrapes it")
    for m in monitors:
        for ep in m["spec"]["endpoints"]:
            cred = ((ep.get("authorization") or {}).get("credentials") or {})
            if cred.get("name") != "picket-keys" or cred.get("key") != "operator-token":
                p.add(ident(m), "does not send the operator token: the gateway's /metrics answers 401 without it")


def check_services(r, p):
    templates = [pod_template(o) for o in r.workloads()]
    for svc in r.by_kind.get("Service", []):
        selector = svc["spec"].get("selector")
        if not selector:
            continue
        chosen = [t for t in templates if matches(selector, t["metadata"].get("labels") or {})]
        if not chosen:
            p.add(ident(svc), "selects no pods")
            continue
        for port in svc["spec"].get("ports") or []:
            target = port.get("targetPort", port["port"])
            for t in chosen:
                declared = {cp.get("name") for c in t["spec"]["containers"] for cp in c.get("ports") or []} | \
                           {cp["containerPort"] for c in t["spec"]["containers"] for cp in c.get("ports") or []}
                if target not in declared:
                    p.add(ident(svc), f"port {port.get('name')} targets {target!r}, which its pods do not declare")
    for mon in r.by_kind.get("ServiceMonitor", []):
        services = [s for s in r.by_kind.get("Service", []) if matches(mon["spec"]["selector"], s["metadata"].get("labels") or {})]
        if not services:
            p.add(ident(mon), "selects no Service")
        for ep in mon["spec"]["endpoints"]:
            for s in services:
                if ep.get("port") not in {port.get("name") for port in s["spec"]["ports"]}:
                    p.add(ident(mon), f"scrapes port {ep.get('port')}, which Service/{s['metadata']['name']} does not name")


# The picket commands that serve /metrics (the gateway's edge, a ledger node's and the
# notifier's ops ports); `picket sandbox-pay` serves none.
METRICS_COMMANDS = {"gateway", "ledger", "notifier", "up"}


def check_scraped(r, p):
    """Every workload running a picket command that serves /metrics is scraped: a Service
    selects its pods and a ServiceMonitor that Service, on a port the Service names."""
    for obj in r.workloads():
        template = pod_template(obj)
        if not any(is_picket(c) and (c.get("args") or c.get("command") or [None])[0] in METRICS_COMMANDS
                   for c in template["spec"]["containers"]):
            continue
        labels = template["metadata"].get("labels") or {}
        services = [s for s in r.by_kind.get("Service", []) if matches(s["spec"].get("selector"), labels)]
        scraped = any(
            matches(m["spec"]["selector"], s["metadata"].get("labels") or {})
            and any(ep.get("port") in {port.get("name") for port in s["spec"].get("ports") or []}
                    for ep in m["spec"]["endpoints"])
            for m in r.by_kind.get("ServiceMonitor", []) for s in services)
        if not scraped:
            p.add(ident(obj), "no ServiceMonitor scrapes it (through a Service selecting its pods)")


def check_network(r, p):
    policies = r.by_kind.get("NetworkPolicy", [])
    deny = [n for n in policies if n["spec"].get("podSelector") == {}
            and set(n["spec"].get("policyTypes") or []) == {"Ingress", "Egress"}
            and not n["spec"].get("ingress") and not n["spec"].get("egress")]
    if not deny:
        p.add("NetworkPolicy", "no default deny (podSelector {}, policyTypes Ingress and Egress, no rules)")
    opening = [n for n in policies if n not in deny and n["spec"].get("podSelector") != {}]
    for obj in r.workloads():
        labels = pod_template(obj)["metadata"].get("labels") or {}
        if not any(matches(n["spec"]["podSelector"], labels) for n in opening):
            p.add(ident(obj), "no network policy of its own: under the default deny it can reach nothing")


def invariants(rendered, secrets_path, secrets_again_path):
    p = Problems()
    docs = load_all(rendered)
    secrets = load_all(secrets_path)
    r = Rendering(docs, secrets)
    check_objects(r, p)
    if secrets_again_path:
        check_secret_values(secrets, load_all(secrets_again_path), p)
    check_containers(r, p, code_settings(), role_settings(), code_commands())
    check_ledger(r, p)
    check_gateway(r, p, gateway_defaults(), gateway_metric_names())
    check_services(r, p)
    check_scraped(r, p)
    check_network(r, p)
    p.finish(f"invariants of {os.path.basename(rendered)} ({len(docs)} objects)")


# ---------------------------------------------------------------- Helm values


def accounts_users():
    """deploy/nats/accounts.conf's users: the variable holding each one's public key and the
    role its permission set is for (`PICKET_<ROLE>_PERMISSIONS`), and the variables it takes
    from the environment (`$NAME`s it does not define itself)."""
    accounts = read("deploy/nats/accounts.conf")
    # Variables are bare `$NAME`s; "$JS.API.>" and the like are quoted subjects.
    unquoted = re.sub(r'"[^"]*"', '""', re.sub(r"#.*", "", accounts))
    defined = set(re.findall(r"^\s*([A-Z][A-Z0-9_]*)\s*[=:]", unquoted, re.M))
    from_env = set(re.findall(r"\$([A-Z][A-Z0-9_]*)", unquoted)) - defined
    users = {}
    for nkey, permissions in re.findall(r"\{\s*nkey:\s*\$([A-Z0-9_]+)\s*,\s*permissions:\s*\$([A-Z0-9_]+)\s*\}", unquoted):
        m = re.fullmatch(r"PICKET_([A-Z]+)_PERMISSIONS", permissions)
        users[nkey] = m.group(1).lower() if m else None
    return users, from_env


def nkey_public_of(seed):
    """The public key of an NKey user seed (deploy/nats/nkey), or None when it is no seed."""
    out = subprocess.run([os.path.join(REPO, "deploy", "nats", "nkey"), "public", "-"], input=seed,
                         capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def nkey_public_ok(key):
    return subprocess.run([os.path.join(REPO, "deploy", "nats", "nkey"), "check-public", key],
                          capture_output=True).returncode == 0


def check_nats_users(r, nats, secrets, p):
    """NKey users: the NATS pods read every public key accounts.conf needs from a Secret
    create-secrets makes; each Picket role that connects to NATS does so over TLS with no
    password in its URL, as the user whose permissions are its role's (PICKET_<ROLE>_PERMISSIONS),
    holding that user's seed: the Secret its PICKET_NATS_CREDS_FILE is mounted from is the one
    the server reads that user's public key from, and the seed and public key are a pair."""
    where = "nats/values.yaml"
    users, from_env = accounts_users()
    if not users:
        p.add("deploy/nats/accounts.conf", "no `{ nkey: $VAR, permissions: $PICKET_<ROLE>_PERMISSIONS }` users found")
    values = {s["metadata"]["name"]: (s.get("stringData") or {}) for s in secrets}
    env = (nats.get("container") or {}).get("env") or {}
    # Secret name -> the accounts.conf variable the NATS pods set from its public key.
    user_secrets = {}
    for var in sorted(from_env):
        ref = ((env.get(var) or {}).get("valueFrom") or {}).get("secretKeyRef") if isinstance(env.get(var), dict) else None
        if var not in env:
            p.add(where, f"deploy/nats/accounts.conf uses ${var}, which the NATS container's env does not set")
            continue
        if var not in users:
            continue
        if not ref:
            p.add(where, f"{var} is not read from a Secret (secretKeyRef)")
            continue
        check_secret_ref(r, p, f"{where} env {var}", ref["name"], ref["key"])
        public = values.get(ref["name"], {}).get(ref["key"])
        if public is not None and not nkey_public_ok(public):
            p.add(where, f"{var} is the key {ref['key']} of Secret {ref['name']}, which is no NKey user public key")
        user_secrets[ref["name"]] = (var, ref["key"])
    for obj in r.workloads():
        template = pod_template(obj)
        volumes = {v["name"]: v for v in template["spec"].get("volumes") or []}
        for c in template["spec"]["containers"]:
            if not is_picket(c):
                continue
            settings = {}
            for source in c.get("envFrom") or []:
                if "configMapRef" in source:
                    settings.update(r.configmaps.get(source["configMapRef"]["name"], {}))
            for e in c.get("env") or []:
                if "value" in e:
                    settings[e["name"]] = e["value"]
            url = settings.get("PICKET_NATS_URL")
            if not url:
                continue
            cw = f"{ident(obj)} container {c['name']}"
            role = (c.get("args") or c.get("command") or [None])[0]
            if not url.startswith("tls://"):
                p.add(cw, f"PICKET_NATS_URL {url} is not tls://")
            if "@" in url:
                p.add(cw, "PICKET_NATS_URL carries a user: the role's NKey seed (PICKET_NATS_CREDS_FILE) is its credential")
            creds = settings.get("PICKET_NATS_CREDS_FILE")
            if not creds:
                p.add(cw, "connects to NATS with no PICKET_NATS_CREDS_FILE: accounts.conf admits only its NKey users")
                continue
            mount = next((m for m in c.get("volumeMounts") or []
                          if creds.startswith(m["mountPath"].rstrip("/") + "/")), None)
            volume = volumes.get(mount["name"]) if mount else None
            if not volume or "secret" not in volume:
                p.add(cw, f"PICKET_NATS_CREDS_FILE {creds} is in no Secret mounted into the container")
                continue
            secret = volume["secret"]["secretName"]
            path = creds[len(mount["mountPath"].rstrip("/")) + 1:]
            items = {i["path"]: i["key"] for i in volume["secret"].get("items") or []}
            key = items.get(path) if items else path
            if key is None:
                p.add(cw, f"PICKET_NATS_CREDS_FILE {creds}: Secret {secret} is mounted without {path}")
                continue
            if secret not in user_secrets:
                p.add(cw, f"its NATS seed comes from Secret {secret}, whose public key is no user of "
                      "deploy/nats/accounts.conf the NATS pods know")
                continue
            var, public_key = user_secrets[secret]
            if users.get(var) != role:
                p.add(cw, f"`picket {role}` connects to NATS as the user of ${var}, whose permissions are "
                      f"{users.get(var)}'s, not {role}'s")
            seed = values.get(secret, {}).get(key)
            public = values.get(secret, {}).get(public_key)
            if seed is not None and public is not None and nkey_public_of(seed) != public:
                p.add(cw, f"the seed {key} of Secret {secret} is not the pair of its {public_key}: "
                      "the NATS server would refuse it")


def helm_values(rendered, secrets_path):
    p = Problems()
    secrets = load_all(secrets_path)
    r = Rendering(load_all(rendered), secrets)
    nats = yaml.safe_load(open(os.path.join(K8S, "nats", "values.yaml")))
    config = nats.get("config") or {}
    where = "nats/values.yaml"
    if not (config.get("cluster") or {}).get("enabled") or (config.get("cluster") or {}).get("replicas", 0) < 3:
        p.add(where, "not a cluster of 3 or more servers")
    js = config.get("jetstream") or {}
    if not js.get("enabled") or not (js.get("fileStore") or {}).get("enabled") or not ((js.get("fileStore") or {}).get("pvc") or {}).get("enabled"):
        p.add(where, "JetStream is not on file storage on a persistent volume")
    for section in ("nats", "cluster"):
        tls = (config.get(section) or {}).get("tls") or {}
        if not tls.get("enabled"):
            p.add(where, f"{section} connections are not TLS")
        elif tls.get("secretName") not in {c["spec"]["secretName"] for c in r.by_kind.get("Certificate", [])}:
            p.add(where, f"{section}.tls.secretName {tls.get('secretName')} is no Certificate's Secret in the manifests")
    if ((config.get("nats") or {}).get("tls") or {}).get("merge", {}).get("verify") is not True:
        p.add(where, "clients are not required to present a certificate (tls verify)")
    merge = config.get("merge") or {}
    if int(merge.get("max_payload", 1048576)) < 1048576:
        p.add(where, "max_payload below 1 MiB: a stadium's performance spec would not fit")
    include = merge.get("$include")
    mounts = {m["name"]: m["mountPath"] for op in (nats.get("container") or {}).get("patch") or [] for m in [op.get("value") or {}] if "mountPath" in m}
    volumes = {v["name"]: v for op in (nats.get("podTemplate") or {}).get("patch") or [] for v in [op.get("value") or {}] if "name" in v}
    accounts_cm = "picket-nats-accounts"
    if accounts_cm not in r.configmaps:
        p.add(where, f"the manifests make no ConfigMap {accounts_cm}")
    mounted = [name for name, v in volumes.items() if (v.get("configMap") or {}).get("name") == accounts_cm]
    if not mounted or mounts.get(mounted[0]) is None:
        p.add(where, f"the ConfigMap {accounts_cm} is not mounted into the NATS container")
    elif include != mounts[mounted[0]].rstrip("/") + "/accounts.conf":
        p.add(where, f"$include {include!r} is not the mounted accounts.conf ({mounts[mounted[0]]}/accounts.conf)")
    check_nats_users(r, nats, secrets, p)
    adapter = yaml.safe_load(open(os.path.join(K8S, "prometheus-adapter", "values.yaml")))
    names = {rule["name"]["as"] for rule in (adapter.get("rules") or {}).get("custom") or []}
    metric_names = gateway_metric_names()
    for hpa in r.by_kind.get("HorizontalPodAutoscaler", []):
        for m in hpa["spec"].get("metrics") or []:
            if m["type"] == "Pods" and m["pods"]["metric"]["name"] not in names:
                p.add("prometheus-adapter/values.yaml", f"serves no {m['pods']['metric']['name']}, which {ident(hpa)} scales on")
    for rule in (adapter.get("rules") or {}).get("custom") or []:
        series = re.match(r"([a-z_]+)", rule["seriesQuery"]).group(1)
        if series not in metric_names:
            p.add("prometheus-adapter/values.yaml", f"reads {series}, which the gateway does not export")
    p.finish("Helm values")


# ---------------------------------------------------------------- faults for the self-check


def first(docs, kind, component=None):
    for obj in docs:
        if obj["kind"] != kind:
            continue
        if component is None or pod_template(obj)["metadata"]["labels"].get("app.kubernetes.io/component") == component:
            return obj
    raise SystemExit(f"no {kind} {component or ''} to break")


def container_of(obj):
    return pod_template(obj)["spec"]["containers"][0]


def fault_unknown_field(docs):
    first(docs, "Deployment", "gateway")["spec"]["bogusField"] = 1


def fault_custom_unknown_field(docs):
    first(docs, "Certificate")["spec"]["dnsName"] = ["picket-nats"]


def fault_short_grace(docs):
    pod_template(first(docs, "Deployment", "gateway"))["spec"]["terminationGracePeriodSeconds"] = 10


def fault_shared_node(docs):
    pod_template(first(docs, "StatefulSet", "ledger"))["spec"]["affinity"]["podAntiAffinity"].pop(
        "requiredDuringSchedulingIgnoredDuringExecution")


def fault_secret(docs):
    docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "oops", "namespace": NAMESPACE},
                 "stringData": {"password": "hunter2hunter2hunter2"}})


def fault_latest(docs):
    container_of(first(docs, "Deployment", "gateway"))["image"] = "picket:latest"


def fault_no_default_deny(docs):
    docs[:] = [d for d in docs if not (d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "default-deny")]


def fault_unknown_setting(docs):
    container_of(first(docs, "Deployment", "gateway"))["env"].append({"name": "PICKET_CONECTIONS_MAX", "value": "1"})


def fault_unexpanded(docs):
    container_of(first(docs, "Deployment", "gateway"))["env"].insert(0, {"name": "DATABASE_READ_URL", "value": "postgres://$(PG_APP_USER)@x/picket"})


def fault_unknown_command(docs):
    container_of(first(docs, "Deployment", "notifier"))["args"] = ["notifer"]


def fault_no_resources(docs):
    container_of(first(docs, "Deployment", "notifier"))["resources"] = {}


def fault_root(docs):
    container_of(first(docs, "Deployment", "notifier"))["securityContext"]["runAsNonRoot"] = False


def fault_partition_gap(docs):
    for obj in docs:
        if obj["kind"] == "ConfigMap" and obj["metadata"]["name"] == "picket-shared":
            obj["data"]["PICKET_PARTITIONS"] = str(int(obj["data"]["PICKET_PARTITIONS"]) + 1)


def fault_hpa_over_max(docs):
    hpa = first(docs, "HorizontalPodAutoscaler")
    for m in hpa["spec"]["metrics"]:
        if m["type"] == "Pods":
            m["pods"]["target"]["averageValue"] = "100000"


def fault_role_setting(docs):
    container_of(first(docs, "StatefulSet", "ledger"))["env"].append(
        {"name": "PICKET_REDIS_CA_FILE", "value": "/etc/picket/tls/ca.crt"})


def fault_no_ports(docs):
    container = container_of(first(docs, "Deployment", "notifier"))
    for key in ("ports", "startupProbe", "readinessProbe", "livenessProbe"):
        container.pop(key, None)


def fault_unscraped(docs):
    docs[:] = [d for d in docs if not (d["kind"] == "ServiceMonitor" and d["metadata"]["name"] == "picket-notifier")]


def gateway_nats_volume(docs):
    spec = pod_template(first(docs, "Deployment", "gateway"))["spec"]
    return next(v for v in spec["volumes"] if (v.get("secret") or {}).get("secretName") == "picket-nats-gateway")


def fault_nats_other_user(docs):
    gateway_nats_volume(docs)["secret"]["secretName"] = "picket-nats-ledger"


def fault_nats_no_seed(docs):
    gateway_nats_volume(docs)["secret"]["items"][0]["path"] = "key"


def fault_nats_password(docs):
    for env in container_of(first(docs, "Deployment", "gateway"))["env"]:
        if env["name"] == "PICKET_NATS_URL":
            env["value"] = "tls://gateway:hunter2@picket-nats:4222"


# fault: (what breaks it, text the failure must contain, the check that must catch it)
FAULTS = {
    "unknown-field": (fault_unknown_field, "bogusField", "schema"),
    "custom-unknown-field": (fault_custom_unknown_field, "dnsName", "schema"),
    "short-grace": (fault_short_grace, "terminationGracePeriodSeconds 10 s does not outlast", "invariants"),
    "shared-node": (fault_shared_node, "leader and standby could share a node", "invariants"),
    "secret": (fault_secret, "a Secret in the manifests", "invariants"),
    "latest": (fault_latest, "uses the latest tag", "invariants"),
    "no-default-deny": (fault_no_default_deny, "no default deny", "invariants"),
    "unknown-setting": (fault_unknown_setting, "PICKET_CONECTIONS_MAX, which no `picket` command reads", "invariants"),
    "unexpanded": (fault_unexpanded, "refers to $(PG_APP_USER), which is not set before it", "invariants"),
    "unknown-command": (fault_unknown_command, "runs `picket notifer`, which is no command of src/main.rs", "invariants"),
    "no-resources": (fault_no_resources, "no resources.requests.cpu", "invariants"),
    "root": (fault_root, "does not set runAsNonRoot: true", "invariants"),
    "no-ports": (fault_no_ports, "declares no port: nothing for a probe or Prometheus to ask", "invariants"),
    "unscraped": (fault_unscraped, "no ServiceMonitor scrapes it", "invariants"),
    "partition-gap": (fault_partition_gap, "no group hosts partition", "invariants"),
    "hpa-over-max": (fault_hpa_over_max, "not below PICKET_CONNECTIONS_MAX", "invariants"),
    "role-setting": (fault_role_setting, "sets PICKET_REDIS_CA_FILE, which `picket ledger` does not read", "invariants"),
    "nats-other-user": (fault_nats_other_user, "`picket gateway` connects to NATS as the user of "
                        "$PICKET_NATS_LEDGER_NKEY, whose permissions are ledger's", "helm-values"),
    "nats-no-seed": (fault_nats_no_seed, "Secret picket-nats-gateway is mounted without seed", "helm-values"),
    "nats-password": (fault_nats_password, "PICKET_NATS_URL carries a user", "helm-values"),
}


def break_rendering(rendered, fault, out):
    docs = load_all(rendered)
    FAULTS[fault][0](docs)
    with open(out, "w") as f:
        yaml.safe_dump_all(docs, f, sort_keys=False)
    print(FAULTS[fault][1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("split")
    s.add_argument("rendered")
    s.add_argument("out_dir")
    i = sub.add_parser("invariants")
    i.add_argument("rendered")
    i.add_argument("--secrets", required=True)
    i.add_argument("--secrets-again")
    h = sub.add_parser("helm-values")
    h.add_argument("rendered")
    h.add_argument("--secrets", required=True)
    b = sub.add_parser("break")
    b.add_argument("rendered")
    b.add_argument("fault", choices=sorted(FAULTS))
    b.add_argument("out")
    f = sub.add_parser("faults")
    args = parser.parse_args()
    if args.command == "split":
        split(args.rendered, args.out_dir)
    elif args.command == "invariants":
        invariants(args.rendered, args.secrets, args.secrets_again)
    elif args.command == "helm-values":
        helm_values(args.rendered, args.secrets)
    elif args.command == "break":
        break_rendering(args.rendered, args.fault, args.out)
    else:
        for name in sorted(FAULTS):
            print(name, FAULTS[name][2])


if __name__ == "__main__":
    main()
