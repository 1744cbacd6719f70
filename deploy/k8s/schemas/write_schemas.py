#!/usr/bin/env python3
"""Writes the JSON schemas of the custom resources deploy/k8s uses (cert-manager, the
Prometheus Operator, CloudNativePG), from their documented APIs (SOURCES.md). The committed
*.json files are this script's output; scripts/validate-deploy checks they still are.

    python3 deploy/k8s/schemas/write_schemas.py            # rewrite them here
    python3 deploy/k8s/schemas/write_schemas.py OUT_DIR    # write them elsewhere
"""
import json, os, sys
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
os.makedirs(OUT, exist_ok=True)
D2020 = "https://json-schema.org/draft/2020-12/schema"

def obj(props, required=(), extra=False, desc=None):
    o = {"type": "object", "properties": props, "additionalProperties": extra}
    if required: o["required"] = list(required)
    if desc: o["description"] = desc
    return o
S = {"type": "string"}
I = {"type": "integer"}
B = {"type": "boolean"}
def arr(items): return {"type": "array", "items": items}
SMAP = {"type": "object", "additionalProperties": {"type": "string"}}
ANYOBJ = {"type": "object"}  # a Kubernetes core type validated by the API server
DURATION = {"type": "string", "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"}
GODUR = {"type": "string", "pattern": r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"}
DNS1123 = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", "maxLength": 253}
META = obj({"name": DNS1123, "namespace": DNS1123, "labels": SMAP, "annotations": SMAP}, required=["name"])
LABELSEL = obj({
    "matchLabels": SMAP,
    "matchExpressions": arr(obj({"key": S, "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]}, "values": arr(S)}, required=["key", "operator"])),
})
SECRETKEY = obj({"name": S, "key": S, "optional": B}, required=["key"])

def resource(api, kind, spec, desc, src):
    return {
        "$schema": D2020,
        "$id": f"https://picket.invalid/schemas/{kind.lower()}-{api.replace('/', '-')}.json",
        "title": f"{kind} ({api})",
        "description": desc + " Written for Picket from the documented API: " + src + ". Only the documented fields are allowed (unknown fields fail); Kubernetes core types inside (affinity, resources, volumes) are left to the API server.",
        "type": "object",
        "properties": {
            "apiVersion": {"const": api},
            "kind": {"const": kind},
            "metadata": META,
            "spec": spec,
        },
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
    }

def write(name, schema):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(schema, f, indent=2, ensure_ascii=False)
        f.write("\n")

# ---- cert-manager.io/v1 ----
USAGES = ["signing", "digital signature", "content commitment", "key encipherment", "key agreement",
          "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any",
          "server auth", "client auth", "code signing", "email protection", "s/mime",
          "ipsec end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing",
          "microsoft sgc", "netscape sgc"]
ISSUERREF = obj({"name": S, "kind": S, "group": S}, required=["name"])
cert_spec = obj({
    "secretName": DNS1123,
    "issuerRef": ISSUERREF,
    "commonName": {"type": "string", "maxLength": 64},
    "literalSubject": S,
    "dnsNames": arr(S),
    "ipAddresses": arr(S),
    "uris": arr(S),
    "emailAddresses": arr(S),
    "otherNames": arr(obj({"oid": S, "utf8Value": S})),
    "duration": GODUR,
    "renewBefore": GODUR,
    "renewBeforePercentage": {"type": "integer", "minimum": 1, "maximum": 99},
    "isCA": B,
    "usages": arr({"enum": USAGES}),
    "encodeUsagesInRequest": B,
    "revisionHistoryLimit": {"type": "integer", "minimum": 1},
    "privateKey": obj({
        "algorithm": {"enum": ["RSA", "ECDSA", "Ed25519"]},
        "encoding": {"enum": ["PKCS1", "PKCS8"]},
        "size": I,
        "rotationPolicy": {"enum": ["Never", "Always"]},
    }),
    "secretTemplate": obj({"annotations": SMAP, "labels": SMAP}),
    "subject": obj({k: arr(S) for k in ["organizations", "countries", "organizationalUnits", "localities", "provinces", "streetAddresses", "postalCodes"]} | {"serialNumber": S}),
    "keystores": obj({"jks": ANYOBJ, "pkcs12": ANYOBJ}),
    "additionalOutputFormats": arr(obj({"type": {"enum": ["DER", "CombinedPEM"]}}, required=["type"])),
    "nameConstraints": ANYOBJ,
    "signatureAlgorithm": S,
}, required=["secretName", "issuerRef"])
write("certificate-cert-manager.io-v1.json", resource("cert-manager.io/v1", "Certificate", cert_spec,
      "A cert-manager Certificate.", "https://cert-manager.io/docs/reference/api-docs/#cert-manager.io/v1.CertificateSpec (cert-manager, Apache-2.0)"))
issuer_spec = obj({
    "selfSigned": obj({"crlDistributionPoints": arr(S)}),
    "ca": obj({"secretName": S, "crlDistributionPoints": arr(S), "ocspServers": arr(S), "issuingCertificateURLs": arr(S)}, required=["secretName"]),
    "acme": ANYOBJ, "vault": ANYOBJ, "venafi": ANYOBJ,
}, desc="Exactly one issuer type.")
issuer_spec["minProperties"] = 1
issuer_spec["maxProperties"] = 1
write("issuer-cert-manager.io-v1.json", resource("cert-manager.io/v1", "Issuer", issuer_spec,
      "A cert-manager Issuer.", "https://cert-manager.io/docs/reference/api-docs/#cert-manager.io/v1.IssuerSpec (cert-manager, Apache-2.0)"))

# ---- monitoring.coreos.com/v1 ----
SAFEAUTH = obj({"type": S, "credentials": SECRETKEY})
TLSCONF = obj({"ca": ANYOBJ, "cert": ANYOBJ, "keySecret": SECRETKEY, "serverName": S, "insecureSkipVerify": B,
               "caFile": S, "certFile": S, "keyFile": S, "minVersion": S, "maxVersion": S})
RELABEL = obj({"action": {"enum": ["replace", "Replace", "keep", "Keep", "drop", "Drop", "hashmod", "HashMod", "labelmap", "LabelMap", "labeldrop", "LabelDrop", "labelkeep", "LabelKeep", "lowercase", "Lowercase", "uppercase", "Uppercase", "keepequal", "KeepEqual", "dropequal", "DropEqual"]},
               "sourceLabels": arr(S), "separator": S, "targetLabel": S, "regex": S, "modulus": I, "replacement": S})
common_ep = {
    "path": S, "scheme": {"enum": ["http", "https", "HTTP", "HTTPS"]}, "params": {"type": "object", "additionalProperties": arr(S)},
    "interval": DURATION, "scrapeTimeout": DURATION, "honorLabels": B, "honorTimestamps": B,
    "trackTimestampsStaleness": B, "metricRelabelings": arr(RELABEL), "relabelings": arr(RELABEL),
    "authorization": SAFEAUTH, "basicAuth": obj({"username": SECRETKEY, "password": SECRETKEY}),
    "oauth2": ANYOBJ, "tlsConfig": TLSCONF, "proxyUrl": S, "noProxy": S, "proxyFromEnvironment": B,
    "proxyConnectHeader": ANYOBJ, "followRedirects": B, "enableHttp2": B, "filterRunning": B,
}
sm_endpoint = obj(common_ep | {"port": S, "targetPort": {"type": ["string", "integer"]}, "bearerTokenFile": S, "bearerTokenSecret": SECRETKEY})
sm_spec = obj({
    "selector": LABELSEL, "namespaceSelector": obj({"any": B, "matchNames": arr(S)}),
    "endpoints": {"type": "array", "items": sm_endpoint, "minItems": 1},
    "jobLabel": S, "targetLabels": arr(S), "podTargetLabels": arr(S), "sampleLimit": I, "targetLimit": I,
    "scrapeProtocols": arr(S), "fallbackScrapeProtocol": S, "labelLimit": I, "labelNameLengthLimit": I,
    "labelValueLengthLimit": I, "keepDroppedTargets": I, "attachMetadata": obj({"node": B}),
    "scrapeClass": S, "bodySizeLimit": S, "selectorMechanism": {"enum": ["RelabelConfig", "RoleSelector"]},
}, required=["selector", "endpoints"])
write("servicemonitor-monitoring.coreos.com-v1.json", resource("monitoring.coreos.com/v1", "ServiceMonitor", sm_spec,
      "A Prometheus Operator ServiceMonitor.", "https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.ServiceMonitorSpec (prometheus-operator, Apache-2.0)"))
pm_endpoint = obj(common_ep | {"port": S, "portNumber": I, "targetPort": {"type": ["string", "integer"]}, "bearerTokenSecret": SECRETKEY})
pm_spec = obj({
    "selector": LABELSEL, "namespaceSelector": obj({"any": B, "matchNames": arr(S)}),
    "podMetricsEndpoints": {"type": "array", "items": pm_endpoint, "minItems": 1},
    "jobLabel": S, "podTargetLabels": arr(S), "sampleLimit": I, "targetLimit": I, "scrapeProtocols": arr(S),
    "fallbackScrapeProtocol": S, "labelLimit": I, "labelNameLengthLimit": I, "labelValueLengthLimit": I,
    "keepDroppedTargets": I, "attachMetadata": obj({"node": B}), "scrapeClass": S, "bodySizeLimit": S,
    "selectorMechanism": {"enum": ["RelabelConfig", "RoleSelector"]},
}, required=["selector"])
write("podmonitor-monitoring.coreos.com-v1.json", resource("monitoring.coreos.com/v1", "PodMonitor", pm_spec,
      "A Prometheus Operator PodMonitor.", "https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.PodMonitorSpec (prometheus-operator, Apache-2.0)"))
rule = obj({"alert": S, "record": S, "expr": {"type": ["string", "integer"], "minLength": 1}, "for": DURATION,
            "keep_firing_for": DURATION, "labels": SMAP, "annotations": SMAP}, required=["expr"])
rule["oneOf"] = [{"required": ["alert"]}, {"required": ["record"]}]
pr_spec = obj({"groups": arr(obj({"name": {"type": "string", "minLength": 1}, "interval": DURATION,
                                  "rules": arr(rule), "partial_response_strategy": S, "limit": I,
                                  "query_offset": DURATION, "labels": SMAP}, required=["name"]))})
write("prometheusrule-monitoring.coreos.com-v1.json", resource("monitoring.coreos.com/v1", "PrometheusRule", pr_spec,
      "A Prometheus Operator PrometheusRule.", "https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.PrometheusRuleSpec (prometheus-operator, Apache-2.0)"))

# ---- postgresql.cnpg.io/v1 Cluster ----
QTY = {"type": ["string", "integer"]}
synchronous = obj({"method": {"enum": ["any", "first"]}, "number": {"type": "integer", "minimum": 1},
                   "standbyNamesPre": arr(S), "standbyNamesPost": arr(S), "maxStandbyNamesFromCluster": I,
                   "dataDurability": {"enum": ["required", "preferred"]}, "failoverQuorum": B},
                  required=["method", "number"])
postgresql = obj({
    "parameters": SMAP, "synchronous": synchronous, "pg_hba": arr(S), "pg_ident": arr(S),
    "syncReplicaElectionConstraint": ANYOBJ, "shared_preload_libraries": arr(S), "ldap": ANYOBJ,
    "promotionTimeout": I, "enableAlterSystem": B, "extensions": arr(ANYOBJ), "epas": ANYOBJ,
})
initdb = obj({
    "database": S, "owner": S, "secret": obj({"name": S}, required=["name"]), "options": arr(S),
    "dataChecksums": B, "encoding": S, "localeCollate": S, "localeCType": S, "locale": S,
    "localeProvider": S, "icuLocale": S, "icuRules": S, "builtinLocale": S, "walSegmentSize": I,
    "postInitSQL": arr(S), "postInitApplicationSQL": arr(S), "postInitTemplateSQL": arr(S),
    "postInitSQLRefs": ANYOBJ, "postInitApplicationSQLRefs": ANYOBJ, "postInitTemplateSQLRefs": ANYOBJ,
    "import": ANYOBJ,
})
storage = obj({"size": S, "storageClass": S, "resizeInUseVolumes": B, "pvcTemplate": ANYOBJ})
cnpg_spec = obj({
    "description": S, "inheritedMetadata": obj({"labels": SMAP, "annotations": SMAP}),
    "imageName": S, "imageCatalogRef": ANYOBJ, "imagePullPolicy": {"enum": ["Always", "Never", "IfNotPresent"]},
    "schedulerName": S, "postgresUID": I, "postgresGID": I,
    "instances": {"type": "integer", "minimum": 1},
    "minSyncReplicas": {"type": "integer", "minimum": 0}, "maxSyncReplicas": {"type": "integer", "minimum": 0},
    "postgresql": postgresql, "replicationSlots": ANYOBJ,
    "bootstrap": obj({"initdb": initdb, "recovery": ANYOBJ, "pg_basebackup": ANYOBJ}),
    "replica": ANYOBJ, "superuserSecret": obj({"name": S}, required=["name"]), "enableSuperuserAccess": B,
    "certificates": obj({"serverCASecret": S, "serverTLSSecret": S, "replicationTLSSecret": S,
                         "clientCASecret": S, "serverAltDNSNames": arr(S)}),
    "imagePullSecrets": arr(obj({"name": S}, required=["name"])),
    "storage": storage, "walStorage": storage, "tablespaces": arr(ANYOBJ),
    "serviceAccountTemplate": ANYOBJ, "ephemeralVolumeSource": ANYOBJ, "ephemeralVolumesSizeLimit": ANYOBJ,
    "startDelay": I, "stopDelay": I, "smartShutdownTimeout": I, "switchoverDelay": I, "failoverDelay": I,
    "livenessProbeTimeout": I, "probes": ANYOBJ,
    "affinity": obj({"enablePodAntiAffinity": B, "topologyKey": S, "nodeSelector": SMAP, "nodeAffinity": ANYOBJ,
                     "tolerations": arr(ANYOBJ), "podAntiAffinityType": {"enum": ["preferred", "required"]},
                     "additionalPodAntiAffinity": ANYOBJ, "additionalPodAffinity": ANYOBJ}),
    "topologySpreadConstraints": arr(ANYOBJ),
    "resources": obj({"requests": {"type": "object", "additionalProperties": QTY},
                      "limits": {"type": "object", "additionalProperties": QTY}, "claims": arr(ANYOBJ)}),
    "priorityClassName": S,
    "primaryUpdateStrategy": {"enum": ["unsupervised", "supervised"]},
    "primaryUpdateMethod": {"enum": ["switchover", "restart"]},
    "backup": ANYOBJ, "nodeMaintenanceWindow": obj({"inProgress": B, "reusePVC": B}),
    "monitoring": ANYOBJ, "externalClusters": arr(ANYOBJ), "logLevel": {"enum": ["error", "warning", "info", "debug", "trace"]},
    "projectedVolumeTemplate": ANYOBJ, "env": arr(ANYOBJ), "envFrom": arr(ANYOBJ), "managed": ANYOBJ,
    "seccompProfile": ANYOBJ, "enablePDB": B, "plugins": arr(ANYOBJ),
    "podSecurityContext": ANYOBJ, "securityContext": ANYOBJ,
}, required=["instances"])
write("cluster-postgresql.cnpg.io-v1.json", resource("postgresql.cnpg.io/v1", "Cluster", cnpg_spec,
      "A CloudNativePG Cluster (operator 1.25+).", "https://cloudnative-pg.io/documentation/current/cloudnative-pg.v1/#postgresql-cnpg-io-v1-ClusterSpec (CloudNativePG, Apache-2.0)"))
