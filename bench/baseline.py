"""What a team would write instead of muster: a script that renders the catalogue through the
same kind templates with Jinja2 and writes the Compose file with PyYAML.

It reads muster's own templates (templates/kinds/) and profiles (profiles/), applies the same
layers and makes the same decisions for the services the bench generates, and the bench checks
that its document equals muster's, so the two are timed doing the same work. It checks nothing
that muster checks (unknown keys, spans, dependency cycles, probe tools): the comparison favours
it. It uses libyaml's C loader and dumper where PyYAML has them, as a team that cared about speed
would.

Usage: baseline.py CATALOGUE PROFILE > docker-compose.yml
"""

import json
import sys
import tomllib
from pathlib import Path

import jinja2
import yaml

ROOT = Path(__file__).resolve().parent.parent
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# kind: (engines, how it is probed, default port)
KINDS = {
    "db": (("postgres", "mysql", "mariadb", "mongo"), "native", None),
    "cache": (("redis", "valkey", "memcached"), "native", None),
    "pool": (("pgbouncer",), "native", None),
    "search": (("elasticsearch", "opensearch"), "native", None),
    "vector-db": (("qdrant",), "http", None),
    "broker": (("rabbitmq",), "native", None),
    "http": ((), "http", 8000),
    "ai-model": ((), "http", 8000),
    "celery-worker": ((), "native", None),
    "beat": ((), "native", None),
    "monitoring": (("prometheus", "grafana", "jaeger"), "http", None),
    "job": ((), "none", None),
}

# repository: (engine, port, (health port, health path), the HTTP client the image has)
IMAGES = {
    "postgres": ("postgres", 5432, None, None),
    "mysql": ("mysql", 3306, None, None),
    "mariadb": ("mariadb", 3306, None, None),
    "mongo": ("mongo", 27017, None, None),
    "redis": ("redis", 6379, None, None),
    "valkey/valkey": ("valkey", 6379, None, None),
    "memcached": ("memcached", 11211, None, None),
    "edoburu/pgbouncer": ("pgbouncer", 5432, None, None),
    "elasticsearch/elasticsearch": ("elasticsearch", 9200, None, None),
    "opensearchproject/opensearch": ("opensearch", 9200, None, None),
    "qdrant/qdrant": ("qdrant", 6333, (6333, "/readyz"), "bash-tcp"),
    "rabbitmq": ("rabbitmq", 5672, None, None),
    "prom/prometheus": ("prometheus", 9090, (9090, "/-/healthy"), "wget"),
    "grafana/grafana": ("grafana", 3000, (3000, "/api/health"), "curl"),
    "jaegertracing/jaeger": ("jaeger", 16686, (13133, "/status"), "wget"),
    "nginx": (None, 80, None, "curl"),
}

CONDITIONS = {
    "healthy": "service_healthy",
    "started": "service_started",
    "completed": "service_completed_successfully",
}

SERVICE_KEYS = ("image", "build", "container_name", "hostname", "command", "entrypoint",
                "working_dir", "user", "restart", "ports", "expose", "env_file", "environment",
                "volumes", "networks", "labels", "depends_on", "healthcheck")
TAIL_KEYS = ("deploy", "logging")
HEALTHCHECK_KEYS = ("test", "interval", "timeout", "retries", "start_period", "start_interval",
                    "disable")


def shell_quote(word):
    if word and all(c.isascii() and (c.isalnum() or c in "/._-:=@%+,") for c in word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


def cmd(argv):
    return ["CMD"] + [a.replace("$", "$$") for a in argv]


def http_probe(client, port, path, timeout):
    url = f"http://127.0.0.1:{port}{path}"
    timeout = str(max(timeout, 1))
    if client == "curl":
        return cmd(["curl", "-fsSL", "--max-redirs", "0", "-o", "/dev/null", "--max-time", timeout,
                    url])
    if client == "wget":
        return cmd(["wget", "-q", "--spider", url])
    if client == "python":
        code = ("import urllib.request as u; h = type('NoRedirect', (u.HTTPRedirectHandler,), "
                "{'redirect_request': lambda *a: None}); "
                f"u.build_opener(h).open({json.dumps(url)}, timeout={timeout})")
        return cmd(["python", "-c", code])
    script = (f"exec 3<>/dev/tcp/127.0.0.1/{port} && printf 'GET %s HTTP/1.0\\r\\nHost: "
              f"127.0.0.1\\r\\n\\r\\n' {shell_quote(path)} >&3 && read -r -t {timeout} status <&3"
              " && [[ $status == HTTP/*' 200'* ]]")
    return cmd(["bash", "-c", script])


def tcp_probe(port, send, expect, timeout):
    script = (f"exec 3<>/dev/tcp/127.0.0.1/{port} && printf '%s\\r\\n' {shell_quote(send)} >&3"
              f" && read -r -t {max(timeout, 1)} line <&3 && [[ $line == {shell_quote(expect)}* ]]")
    return cmd(["bash", "-c", script])


def seconds(duration):
    number, unit = duration[:-1], duration[-1]
    return int(number) * {"s": 1, "m": 60, "h": 3600}[unit]


def scalar(value):
    return str(value).lower() if isinstance(value, bool) else str(value)


def repository(image):
    name = image.split("@")[0]
    if ":" in name and "/" not in name.rsplit(":", 1)[1]:
        name = name.rsplit(":", 1)[0]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        name = rest
    return name.removeprefix("library/")


def deep_merge(base, over):
    for key, value in over.items():
        if isinstance(base.get(key), dict) and isinstance(value, dict):
            deep_merge(base[key], value)
        else:
            base[key] = value


def ordered(mapping, head, tail=()):
    mapping = dict(mapping)
    out = {k: mapping.pop(k) for k in head if k in mapping}
    tail_values = {k: mapping.pop(k) for k in tail if k in mapping}
    out.update(mapping)
    out.update(tail_values)
    return out


def build_value(build):
    if isinstance(build, str) or set(build) == {"context"}:
        return build if isinstance(build, str) else build["context"]
    out = {k: build[k] for k in ("context", "dockerfile", "target") if k in build}
    if "args" in build:
        out["args"] = {k: scalar(v) for k, v in build["args"].items()}
    return out


def profile_chain(name):
    chain = []
    while name:
        profile = tomllib.loads((ROOT / "profiles" / f"{name}.toml").read_text())
        chain.insert(0, (name, profile))
        name = profile.get("extends")
    return chain


def render_service(env, chain, name, entry):
    kind = entry["kind"]
    engines, probe_style, default_port = KINDS[kind]
    layers = [p.get("defaults", {}) for _, p in chain]
    layers += [p.get("kinds", {}).get(kind, {}) for _, p in chain]
    layers.append(entry)
    layers += [entry.get("profiles", {}).get(n, {}) for n, _ in chain]

    def pick(key, default=None):
        return next((layer[key] for layer in reversed(layers) if key in layer), default)

    def merged(key):
        out = {}
        for layer in layers:
            out.update(layer.get(key, {}))
        return out

    image = pick("image")
    facts = IMAGES.get(repository(image)) if image else None
    engine = pick("engine") or (facts and facts[0]) or (engines[0] if len(engines) == 1 else None)
    port = pick("port") or (facts and facts[1]) or default_port
    health_port, health_path = port, pick("health_path")
    if facts and facts[2]:
        health_port = port if facts[2][0] == facts[1] else facts[2][0]
        health_path = health_path or facts[2][1]
    elif health_path is None and probe_style == "http" and not engines:
        health_path = "/health/live"
    healthcheck = merged("healthcheck")
    env_vars = {k: scalar(v) for k, v in merged("env").items()}
    probe = {"native": "native", "none": "none"}.get(probe_style)
    if probe is None:
        # An image the table does not know, or a build: python-slim, as muster assumes.
        probe = (facts and facts[3]) or "python"
    service = {
        "name": name, "kind": kind, "engine": engine, "image": image, "port": port,
        "health_port": health_port, "health_path": health_path,
        "ready_path": pick("ready_path", health_path), "app": pick("app", "config"),
        "probe": probe, "probe_timeout": max(seconds(healthcheck.get("timeout", "30s")) - 1, 1),
        "env": env_vars,
        # The templates read the files env secrets are mounted from; the bench's catalogues
        # give none.
        "secret_files": {},
    }
    body = yaml.load(env.get_template(f"{kind}.yml.j2").render(service=service), Loader) or {}

    for key in ("image", "command", "entrypoint", "restart", "ports", "volumes", "networks"):
        if pick(key):
            body[key] = pick(key)
    if pick("build"):
        body["build"] = build_value(pick("build"))
    if pick("env_file"):
        env_file = pick("env_file")
        body["env_file"] = [env_file] if isinstance(env_file, str) else env_file
    if pick("replicas"):
        body["deploy"] = {"replicas": pick("replicas")}
    if env_vars:
        body["environment"] = {**body.pop("environment", {}), **env_vars}
    labels = {k: scalar(v) for k, v in merged("labels").items()}
    if labels:
        body["labels"] = {**body.pop("labels", {}), **labels}
    test = body.pop("healthcheck", {})
    if healthcheck.get("disable"):
        body["healthcheck"] = {"disable": True}
    elif "test" in healthcheck or "test" in test:
        timing = {k: healthcheck[k] for k in HEALTHCHECK_KEYS[:-1] if k in healthcheck}
        body["healthcheck"] = ordered({**test, **timing}, HEALTHCHECK_KEYS)
    compose = {}
    for layer in layers:
        deep_merge(compose, layer.get("compose", {}))
    deep_merge(body, compose)
    return body, pick("depends_on", [])


def has_healthcheck(body):
    hc = body.get("healthcheck", {})
    return "test" in hc and not hc.get("disable")


def main():
    catalogue_path, profile = Path(sys.argv[1]), sys.argv[2]
    catalogue = tomllib.loads(catalogue_path.read_text())
    chain = profile_chain(profile)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ROOT / "templates" / "kinds"),
        undefined=jinja2.StrictUndefined,
        # Every {{ value }} as JSON, which YAML reads as flow syntax: muster's escaping.
        finalize=json.dumps,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(http_probe=http_probe, tcp_probe=tcp_probe)
    env.filters["shell_quote"] = lambda word: shell_quote(word).replace("$", "$$")
    # minijinja's built-in test, which templates/kinds/pool.yml.j2 uses; Jinja2 has none.
    env.tests["startingwith"] = lambda value, prefix: str(value).startswith(prefix)

    entries = catalogue["services"]
    rendered = {name: render_service(env, chain, name, entry) for name, entry in entries.items()}
    services = {}
    for name, (body, depends_on) in rendered.items():
        if isinstance(depends_on, list):
            depends_on = dict.fromkeys(depends_on)
        deps = {}
        for target, condition in depends_on.items():
            if condition is None:
                target_body = rendered[target][0]
                if entries[target]["kind"] == "job":
                    condition = "completed"
                elif has_healthcheck(target_body):
                    condition = "healthy"
                else:
                    condition = "started"
            deps[target] = {"condition": CONDITIONS[condition]}
        if deps:
            body["depends_on"] = deps
        services[name] = ordered(body, SERVICE_KEYS, TAIL_KEYS)

    doc = {}
    if "name" in catalogue.get("project", {}):
        doc["name"] = catalogue["project"]["name"]
    doc["services"] = services
    volumes, networks = {}, {}
    for body in services.values():
        for mount in body.get("volumes", []):
            source = mount.split(":", 1)[0] if ":" in mount else ""
            if source and not source.startswith(("/", ".", "~", "$")) and "/" not in source:
                volumes.setdefault(source, {})
        for network in body.get("networks", []):
            networks.setdefault(network, {})
    if volumes:
        doc["volumes"] = volumes
    if networks:
        doc["networks"] = networks
    sys.stdout.write(f"# Generated from {catalogue_path.name} (profile: {profile}).\n")
    sys.stdout.write(yaml.dump(doc, Dumper=Dumper, sort_keys=False))


if __name__ == "__main__":
    main()
