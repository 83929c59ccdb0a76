"""checks -- what the deployment files must agree on, one function per rule.

Every check takes a deploylib.Project and returns a list of problems (strings); an empty
list is a pass. They read the snapshot, so check_deploy.py's self-tests can break a copy of
it and expect a problem; besides, some ask the disk whether a path exists, and
check_build_context runs `make -n`, check_gateway_nginx_config `nginx -t` and
check_live_binaries the built binaries.

The facts come from the code (see deploylib): the README configuration table, each binary's
--help (commands, environment, default port), the routes libcommon/http_builtin.c registers and the
metric names in the C sources. """

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from deploylib import (COMPOSE_OFFLINE, DOCKER_DIR, GATEWAY_DOCKERFILE, K8S_DIR, K8S_OVERLAY,
                       K8S_RENDERED, K8S_TOOLS, SERVICE_DOCKERFILE, SERVICES, apt_installs, gen,
                       copy_parts, env_pairs, exec_form, ignored, kustomization_of,
                       kustomize_references, shell_commands)

REQUIRED_COMPOSE = SERVICES + ("mongo", "rabbitmq", "gateway", "prometheus", "grafana")
ADMIN_UIS = {"rabbitmq": 15672, "prometheus": 9090, "grafana": 3000}
BUILD_DEV_PACKAGES = {"libevent-dev", "libcjson-dev", "libsodium-dev", "libsqlite3-dev",
                      "libmongoc-dev", "libbson-dev", "librabbitmq-dev", "libcurl4-openssl-dev", "libmimalloc-dev",
                      "libhttp-parser-dev", "libwebp-dev", "libturbojpeg0-dev", "libpng-dev",
                      "libexif-dev", "libutf8proc-dev"}
PLUGIN = "tizza-store-mongo.so"
ENTRYPOINT = "/usr/local/bin/tizza-service"  # service.Dockerfile's, a link to the binary
OFFLINE_STANDINS = {"mongo", "rabbitmq", "prometheus", "grafana"}  # what compose.offline.yml may override
SECRET_NAME = re.compile(r"(KEY|SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL)", re.I)
CREDENTIALS_IN_URL = re.compile(r"://[^/@\s:]+:[^/@\s]+@")
DRAIN_S = 10  # DRAIN_MS default (README)
RABBITMQ_METRICS = {"rabbitmq_detailed_queue_messages", "rabbitmq_detailed_queue_messages_ready",
                    "rabbitmq_detailed_queue_messages_unacked", "rabbitmq_queue_messages",
                    "rabbitmq_queue_messages_ready", "rabbitmq_queue_messages_unacked"}

def seconds(value):
    """'15s' / '1m30s' / 10 -> seconds (None when unreadable)."""
    if isinstance(value, (int, float)):
        return value
    total, found = 0.0, False
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", str(value)):
        total += float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
        found = True
    return total if found else None


def compose_env(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {k: ("" if v is None else str(v)) for k, v in env.items()}


def strip_interpolation(value):
    """'${X:-default}' -> 'default', so URLs can be parsed."""
    return re.sub(r"\$\{[A-Za-z0-9_]+(?::?-([^}]*))?\}", lambda m: m.group(1) or "", value)


def image_user(stage):
    """The final USER of a stage ('10001:10001' -> '10001'), None when there is none."""
    user = stage.last("USER") if stage else None
    return user.split(":")[0].strip() if user else None


def image_env(stage):
    env = {}
    for arg in stage.all("ENV"):
        env.update(env_pairs(arg))
    return env


# =============================================================== loading

def check_files_load(p):
    """Every deployment file exists and parses; the binaries are built."""
    return list(p.load_problems)


def check_generated_files_fresh(p):
    """The files tools/gen.py writes from services/*/service.yaml are as it would write them."""
    return [f"{rel}: stale (make gen, and commit it)"
            for rel, (old, new) in gen.generate(p.root, p.manifests).items() if old != new]


def check_manifest_ports(p):
    """Each service's manifest port is the default port its binary's --help gives."""
    return [f"services/{m['name']}/service.yaml: port {m['port']}, but tizza-{m['name']} "
            f"--help says {p.help_ports.get(m['name'])}"
            for m in p.manifests if p.help_ports.get(m["name"]) != m["port"]]


# =============================================================== docker-compose.yml

def check_compose_services(p):
    """The constellation is complete: data stores, the four services, gateway, monitoring."""
    c = p.compose or {}
    services = c.get("services") or {}
    return [f"docker-compose.yml: no service `{s}`" for s in REQUIRED_COMPOSE if s not in services]


def check_compose_scalable(p):
    """`docker compose up --scale <service>=3` works: no container_name, no host port, no
    fixed address on the four services."""
    problems = []
    services = (p.compose or {}).get("services") or {}
    for name in SERVICES:
        s = services.get(name) or {}
        if "container_name" in s:
            problems.append(f"{name}: container_name prevents --scale")
        if s.get("ports"):
            problems.append(f"{name}: publishes host ports {s['ports']} (only the gateway and admin UIs may)")
        for net, cfg in (s.get("networks") or {}).items() if isinstance(s.get("networks"), dict) else []:
            if isinstance(cfg, dict) and ("ipv4_address" in cfg or "ipv6_address" in cfg):
                problems.append(f"{name}: fixed address on network {net} prevents --scale")
    return problems


def check_compose_ports(p):
    """Only the gateway and the admin UIs publish ports; admin UIs on 127.0.0.1 only; the
    gateway publishes the port its nginx listens on."""
    problems = []
    services = (p.compose or {}).get("services") or {}
    for name, s in services.items():
        ports = s.get("ports") or []
        if not ports:
            continue
        if name not in ADMIN_UIS and name != "gateway":
            problems.append(f"{name}: publishes {ports}; only gateway and {sorted(ADMIN_UIS)} may")
            continue
        for spec in ports:
            text = strip_interpolation(str(spec))
            parts = text.split(":")
            container_port = int(parts[-1].split("/")[0])
            if name in ADMIN_UIS:
                if len(parts) != 3 or parts[0] != "127.0.0.1":
                    problems.append(f"{name}: admin port {spec} must bind 127.0.0.1")
                if container_port != ADMIN_UIS[name]:
                    problems.append(f"{name}: publishes {container_port}, the UI is on {ADMIN_UIS[name]}")
            elif container_port != gateway_listen_port(p):
                problems.append(f"gateway: publishes container port {container_port}, "
                                f"nginx listens on {gateway_listen_port(p)} (deploy/nginx/gateway.conf)")
    if not (services.get("gateway") or {}).get("ports"):
        problems.append("gateway: publishes no port")
    return problems


def healthchecked(p, services, name):
    """True when the compose service has a health check (its own or its image's)."""
    s = services.get(name) or {}
    hc = s.get("healthcheck")
    if isinstance(hc, dict) and not hc.get("disable") and hc.get("test"):
        return True
    build = s.get("build") or {}
    stages = p.dockerfiles.get(build.get("dockerfile")) if isinstance(build, dict) else None
    return bool(stages and stages[-1].last("HEALTHCHECK"))


def check_compose_health_and_order(p):
    """Every service has a health check; depends_on uses conditions (service_healthy on
    services that have a health check), and names services that exist. The four services
    wait for MongoDB and RabbitMQ; the gateway for the four services."""
    problems = []
    services = (p.compose or {}).get("services") or {}
    for name, s in services.items():
        deps = s.get("depends_on")
        if deps is None:
            continue
        if not isinstance(deps, dict):
            problems.append(f"{name}: depends_on is a list; use conditions (service_healthy)")
            continue
        for dep, cfg in deps.items():
            cond = (cfg or {}).get("condition")
            if dep not in services:
                problems.append(f"{name}: depends on unknown service {dep}")
            elif cond not in ("service_healthy", "service_completed_successfully", "service_started"):
                problems.append(f"{name}: depends_on {dep} without a condition")
            elif cond == "service_healthy" and not healthchecked(p, services, dep):
                problems.append(f"{name}: waits for {dep} to be healthy, but {dep} has no health check")
    for name in SERVICES + ("mongo", "rabbitmq", "gateway"):
        if name in services and not healthchecked(p, services, name):
            problems.append(f"{name}: no health check")
    for name in SERVICES:
        deps = (services.get(name) or {}).get("depends_on") or {}
        for dep in ("mongo", "rabbitmq"):
            if not isinstance(deps, dict) or (deps.get(dep) or {}).get("condition") != "service_healthy":
                problems.append(f"{name}: must wait for {dep} (condition: service_healthy)")
    gdeps = (services.get("gateway") or {}).get("depends_on") or {}
    for name in SERVICES:
        if not isinstance(gdeps, dict) or (gdeps.get(name) or {}).get("condition") != "service_healthy":
            problems.append(f"gateway: must wait for {name} (condition: service_healthy)")
    return problems


def check_compose_healthcheck_paths(p):
    """The four services' health checks ask GET /health of the service itself: the test's
    last argument is exactly /health, as healthcheck_ok wants of the images' HEALTHCHECK."""
    problems = []
    services = (p.compose or {}).get("services") or {}
    for name in SERVICES:
        hc = (services.get(name) or {}).get("healthcheck") or {}
        test = hc.get("test") or []
        args = test.split() if isinstance(test, str) else [str(a) for a in test]
        if args and args[-1] != "/health":
            problems.append(f"{name}: health check {test} does not ask /health")
    if "/health" not in p.routes:
        problems.append("libcommon/http_builtin.c registers no GET /health")
    return problems


def check_compose_env(p):
    """Every variable set on a service is one that binary reads (README table, code, --help),
    PORT is the binary's port, each service has its own MongoDB database on the replica set
    rs0, and every service URL names a compose service and its real port."""
    problems = []
    services = (p.compose or {}).get("services") or {}
    databases = {}
    for name in SERVICES:
        env = compose_env(services.get(name) or {})
        allowed = p.allowed_env(name)
        for var in env:
            if var not in allowed:
                problems.append(f"{name}: sets {var}, which tizza-{name} does not read "
                                f"(not in the README table / its --help)")
        if "PORT" in env and int(env["PORT"]) != p.help_ports.get(name):
            problems.append(f"{name}: PORT={env['PORT']} but tizza-{name} serves {p.help_ports.get(name)}")
        store = strip_interpolation(env.get("STORE_URL", ""))
        if not store.startswith("mongodb://"):
            problems.append(f"{name}: STORE_URL is not a mongodb:// URL")
        else:
            u = urlsplit(store)
            db = u.path.lstrip("/")
            if "replicaSet=rs0" not in u.query:
                problems.append(f"{name}: STORE_URL lacks ?replicaSet=rs0 (transactions)")
            if not db:
                problems.append(f"{name}: STORE_URL names no database")
            databases.setdefault(db, []).append(name)
            if u.hostname not in services:
                problems.append(f"{name}: STORE_URL host {u.hostname} is not a compose service")
        problems += url_targets_ok(p, name, env, services)
    for db, owners in databases.items():
        if len(owners) > 1:
            problems.append(f"services {owners} share the database {db}")
    return problems


def check_config_documented(p):
    """The README configuration table has a row for exactly the variables the binaries'
    --help lists (the rows of libcommon's and the services' configuration tables)."""
    if not p.help_rows:
        return ["no binary's --help was read"]
    listed = set().union(*p.help_rows.values())
    problems = [f"README.md: the configuration table lacks {name} (tizza-"
                f"{', tizza-'.join(s for s in SERVICES if name in p.help_rows.get(s, ()))} --help lists it)"
                for name in sorted(listed - p.config_table)]
    problems += [f"README.md: the configuration table has {name}, which no binary's --help lists"
                 for name in sorted(p.config_table - listed)]
    return problems


def url_targets_ok(p, name, env, known_hosts):
    """AUTH_URL/PIZZA_URL/LIKES_URL point at that service's name and port; AMQP_URL at the
    broker's AMQP port."""
    problems = []
    for var, value in env.items():
        value = strip_interpolation(value)
        m = re.fullmatch(r"(AUTH|PIZZA|LIKES|TWEETS)_URL", var)
        if m:
            target = m.group(1).lower()
            u = urlsplit(value)
            if u.hostname != target or u.port != p.help_ports.get(target):
                problems.append(f"{name}: {var}={value}, want http://{target}:{p.help_ports.get(target)}")
            if u.hostname not in known_hosts:
                problems.append(f"{name}: {var} host {u.hostname} does not exist")
        if var == "AMQP_URL":
            u = urlsplit(value)
            if u.port != 5672 or u.hostname not in known_hosts:
                problems.append(f"{name}: AMQP_URL {value} is not the broker's AMQP port")
            if not u.path.endswith("%2f") and not u.path.endswith("%2F"):
                problems.append(f"{name}: AMQP_URL must name the vhost / as %2f")
    return problems


def check_compose_paths(p):
    """Every path docker-compose.yml and compose.offline.yml name exists: build contexts,
    Dockerfiles (under deploy/docker), bind mounts."""
    problems = []
    for fname, doc in (("docker-compose.yml", p.compose), (COMPOSE_OFFLINE, p.compose_offline)):
        for name, s in ((doc or {}).get("services") or {}).items():
            build = s.get("build")
            if isinstance(build, dict):
                ctx = os.path.join(p.root, build.get("context", "."))
                if not os.path.isdir(ctx):
                    problems.append(f"{fname}: {name}: build context {build.get('context')} missing")
                df = build.get("dockerfile")
                if df and not os.path.isfile(os.path.join(ctx, df)):
                    problems.append(f"{fname}: {name}: Dockerfile {df} missing")
                elif df and df not in p.dockerfiles:
                    problems.append(f"{fname}: {name}: Dockerfile {df} is not one of {DOCKER_DIR}/**/*.Dockerfile")
            for vol in s.get("volumes") or []:
                src = vol.split(":")[0] if isinstance(vol, str) else (vol.get("source") or "")
                if src.startswith((".", "/")) and not os.path.exists(os.path.join(p.root, src)):
                    problems.append(f"{fname}: {name}: mounts {src}, which does not exist")
    return problems


def build_args(build):
    args = build.get("args") or {}
    if isinstance(args, list):
        args = dict(a.partition("=")[::2] for a in args)
    return {k: ("" if v is None else str(v)) for k, v in args.items()}


def declared_args(stages):
    return {arg.partition("=")[0].strip() for st in stages for arg in st.all("ARG")}


def check_compose_images_built(p):
    """The four services are built from deploy/docker/service.Dockerfile with the build
    arguments SERVICE (its name) and PORT (its binary's port), each under its own image name;
    the gateway from gateway.Dockerfile; every Dockerfile under deploy/docker is built by
    docker-compose.yml or compose.offline.yml; the stop grace period outlasts the drain
    (DRAIN_MS)."""
    problems = []
    services = (p.compose or {}).get("services") or {}
    declared = declared_args(p.dockerfiles.get(SERVICE_DOCKERFILE) or [])
    images = {}
    for name in SERVICES + ("gateway",):
        s = services.get(name) or {}
        build = s.get("build") or {}
        want = p.image_dockerfiles[name]
        if not isinstance(build, dict) or build.get("dockerfile") != want or build.get("context", ".") != ".":
            problems.append(f"{name}: not built from {want} (context .)")
            continue
        images.setdefault(strip_interpolation(str(s.get("image"))), []).append(name)
        if name == "gateway":
            continue
        args = build_args(build)
        want_args = p.image_args(name)
        if args != want_args:
            problems.append(f"{name}: build args {args}, want {want_args} (its binary's port)")
        for a in args:
            if a not in declared:
                problems.append(f"{name}: build arg {a} is not an ARG of {want}")
    for image, names in images.items():
        if len(names) > 1 or image == "None":
            problems.append(f"{names}: image name {image} is not one per service")
    built = {(s.get("build") or {}).get("dockerfile") for doc in (p.compose, p.compose_offline)
             for s in ((doc or {}).get("services") or {}).values() if isinstance(s.get("build"), dict)}
    for rel in p.dockerfiles:
        if rel not in built:
            problems.append(f"{rel}: built by neither docker-compose.yml nor {COMPOSE_OFFLINE}")
    for name in SERVICES:
        grace = seconds((services.get(name) or {}).get("stop_grace_period", "10s"))
        if grace is None or grace <= DRAIN_S:
            problems.append(f"{name}: stop_grace_period {grace}s does not outlast DRAIN_MS ({DRAIN_S}s)")
    return problems


def check_compose_offline(p):
    """compose.offline.yml overrides only services of docker-compose.yml among mongo,
    rabbitmq, prometheus and grafana; each stand-in is built from a Dockerfile under
    deploy/docker/offline, tagged with an image name of its own (never the real image's),
    and a health check it sets runs a command its Dockerfile copies in."""
    problems = []
    doc = p.compose_offline or {}
    main = (p.compose or {}).get("services") or {}
    for key in doc:
        if key != "services" and not str(key).startswith("x-"):
            problems.append(f"{COMPOSE_OFFLINE}: overrides top-level {key}")
    real_images = {strip_interpolation(str(s.get("image"))) for s in main.values() if s.get("image")}
    for name, s in (doc.get("services") or {}).items():
        if name not in OFFLINE_STANDINS or name not in main:
            problems.append(f"{COMPOSE_OFFLINE}: overrides {name}, not one of the stand-ins "
                            f"{sorted(OFFLINE_STANDINS)} of docker-compose.yml")
            continue
        build = (s or {}).get("build")
        if not build:
            continue
        df = build.get("dockerfile") if isinstance(build, dict) else None
        stages = p.dockerfiles.get(df)
        if not stages or not df.startswith(f"{DOCKER_DIR}/offline/"):
            problems.append(f"{COMPOSE_OFFLINE}: {name} built from {df}, not a Dockerfile in {DOCKER_DIR}/offline")
            continue
        image = strip_interpolation(str(s.get("image")))
        if not s.get("image") or image in real_images:
            problems.append(f"{COMPOSE_OFFLINE}: {name}'s stand-in is tagged {image}, which would "
                            f"shadow or be a real image")
        test = ((s.get("healthcheck") or {}).get("test")) or []
        if isinstance(test, list) and test[:1] == ["CMD"] and len(test) > 1 and test[1].startswith("/"):
            shipped = {dst for st in stages[-1:] for _, _, dst in (copy_parts(a) for a in st.all("COPY"))}
            if test[1] not in shipped:
                problems.append(f"{COMPOSE_OFFLINE}: {name}'s health check runs {test[1]}, which {df} "
                                f"does not copy in")
    return problems


def check_compose_mongo_rabbitmq(p):
    """MongoDB runs as replica set rs0, initiated by its health check with the member
    address the services use; RabbitMQ loads the management, Prometheus and shovel plugins."""
    problems = []
    services = (p.compose or {}).get("services") or {}
    mongo = services.get("mongo") or {}
    cmd = " ".join(map(str, mongo.get("command") or []))
    if "--replSet rs0" not in cmd:
        problems.append("mongo: not started with --replSet rs0")
    test = " ".join(map(str, (mongo.get("healthcheck") or {}).get("test") or []))
    hosts = {urlsplit(strip_interpolation(compose_env(services.get(s) or {}).get("STORE_URL", ""))).netloc
             for s in SERVICES}
    for host in hosts:
        if f"host: '{host}'" not in test and f'host: "{host}"' not in test:
            problems.append(f"mongo: the health check does not initiate rs0 with member {host}")
    if "rs.initiate" not in test or "isWritablePrimary" not in test:
        problems.append("mongo: the health check must initiate rs0 and wait for a writable primary")
    rabbit = services.get("rabbitmq") or {}
    plugins_file = None
    for vol in rabbit.get("volumes") or []:
        if isinstance(vol, str) and vol.split(":")[1:2] == ["/etc/rabbitmq/enabled_plugins"]:
            plugins_file = vol.split(":")[0]
    if not plugins_file:
        problems.append("rabbitmq: no enabled_plugins mounted")
    else:
        text = open(os.path.join(p.root, plugins_file)).read() if os.path.exists(
            os.path.join(p.root, plugins_file)) else ""
        for plugin in ("rabbitmq_management", "rabbitmq_prometheus", "rabbitmq_shovel"):
            if plugin not in text:
                problems.append(f"rabbitmq: {plugins_file} does not enable {plugin}")
    return problems


# =============================================================== Dockerfiles
# The four services share deploy/docker/service.Dockerfile: stage "build" compiles every
# binary, a rootfs stage gathers one service's files with their libraries (rootfs.sh), and
# the runtime stage is that directory on an empty base. Each check reads it as built for each
# service (Project.image: SERVICE and PORT substituted, as `make images` passes them).

def service_rootfs(stages):
    """What the image's runtime stage is made of, read from the stage it copies from:
    {stage, dir (what it copies), files (paths given to rootfs.sh: each lands in the image
    at its own path, with its libraries), extra (paths cp'd into dir), links ({link: target}
    of ln -s), installed ({path: source} of COPY and install), script (the rootfs.sh run)}
    and the problems found on the way."""
    plan = dict(stage=None, dir=None, files=[], extra=set(), links={}, installed={}, script=None)
    if not stages:
        return plan, ["no stages"]
    final = stages[-1]
    sources = [(flags["from"], srcs) for flags, srcs, _ in (copy_parts(a) for a in final.all("COPY"))
               if flags.get("from")]
    if len(sources) != 1 or len(sources[0][1]) != 1:
        return plan, [f"the runtime stage copies {sources or 'nothing'} from other stages, want one directory"]
    plan["dir"] = sources[0][1][0].rstrip("/") or "/"
    named = {st.name: st for st in stages[:-1] if st.name}
    stage = named.get(sources[0][0])
    if stage is None:
        return plan, [f"COPY --from={sources[0][0]}: no such stage"]
    plan["stage"] = stage
    for arg in stage.all("COPY"):
        flags, srcs, dst = copy_parts(arg)
        for src in srcs:
            target = dst + os.path.basename(src) if dst and dst.endswith("/") else dst
            plan["installed"][target] = src
    for run in stage.all("RUN"):
        for words in shell_commands(run):
            if any(w.endswith("rootfs.sh") for w in words):
                i = next(i for i, w in enumerate(words) if w.endswith("rootfs.sh"))
                plan["script"], plan["files"] = words[i], words[i + 2:]
                if words[i + 1:i + 2] != [plan["dir"]]:
                    plan["files"] = []
                    return plan, [f"rootfs.sh assembles {words[i + 1:i + 2]}, the runtime stage "
                                  f"copies {plan['dir']}"]
                continue
            tool, rest = words[0], words[1:]
            positional = []
            skip = False
            for w in rest:
                if skip:
                    skip = False
                elif w in ("-m", "-o", "-g", "-S", "-t", "--mode", "--owner", "--group"):
                    skip = True
                elif not w.startswith("-"):
                    positional.append(w)
            if tool == "install" and len(positional) == 2:
                plan["installed"][positional[1]] = positional[0]
            elif tool == "ln" and "-s" in rest and len(positional) == 2:
                target, link = positional
                plan["links"][link] = os.path.normpath(os.path.join(os.path.dirname(link), target))
            elif tool == "cp" and len(positional) >= 2 and plan["dir"] and \
                    positional[-1].startswith(plan["dir"].rstrip("/") + "/"):
                dst = positional[-1]
                for src in positional[:-1]:
                    path = dst + os.path.basename(src) if dst.endswith("/") else dst
                    plan["extra"].add("/" + os.path.relpath(path, plan["dir"]))
    if plan["script"] is None:
        return plan, [f"stage {stage.name} does not run rootfs.sh"]
    return plan, []


def image_paths(plan):
    return set(plan["files"]) | plan["extra"]


def shebang(script):
    """The interpreter a script's #! line names (None without one)."""
    first = (script or "").split("\n", 1)[0]
    return first[2:].split()[0] if first.startswith("#!") and first[2:].split() else None


def check_service_dockerfile_stages(p):
    """service.Dockerfile: the build stage on debian:bookworm installs the -dev packages and
    runs `make services plugin`; the rootfs stage builds FROM it (so the libraries gathered
    are the ones compiled against); the runtime stage is FROM scratch and only copies that
    stage's directory to / (no RUN, no other COPY or ADD)."""
    problems = []
    rel = SERVICE_DOCKERFILE
    stages = p.dockerfiles.get(rel) or []
    if len(stages) < 3:
        return [f"{rel}: want three stages (build, rootfs, runtime), has {len(stages)}"]
    build, final = stages[0], stages[-1]
    if build.image != "debian:bookworm":
        problems.append(f"{rel}: builds on {build.image}, want debian:bookworm")
    missing = BUILD_DEV_PACKAGES - set(apt_installs(build))
    if missing:
        problems.append(f"{rel}: build stage lacks {sorted(missing)}")
    targets = {w for run in build.all("RUN") for words in shell_commands(run) if words[0] == "make"
               for w in words[1:] if not w.startswith("-")}
    if not {"services", "plugin"} <= targets:
        problems.append(f"{rel}: build stage runs make {sorted(targets)}, want `services plugin`")
    if final.image != "scratch":
        problems.append(f"{rel}: the runtime stage is FROM {final.image}, want scratch")
    adds = [(kw, arg) for kw, arg in final.instructions if kw in ("RUN", "COPY", "ADD")]
    froms = [copy_parts(arg) for kw, arg in adds if kw == "COPY"]
    if len(adds) != 1 or not froms or not froms[0][0].get("from") or froms[0][2] != "/":
        problems.append(f"{rel}: the runtime stage must be one `COPY --from=<rootfs stage> <dir>/ /`, "
                        f"has {[f'{kw} {arg}' for kw, arg in adds]}")
    else:
        src = next((st for st in stages[:-1] if st.name == froms[0][0]["from"]), None)
        if src is None or src.image != build.name:
            problems.append(f"{rel}: the runtime stage copies from {froms[0][0]['from']}, "
                            f"which is not a stage FROM {build.name}")
    return problems


def check_service_rootfs(p):
    """For each service, the rootfs stage gives rootfs.sh (deploy/docker/rootfs.sh) the
    service's binary (build/bin/tizza-<service>), the MongoDB plugin where TIZZA_LIB_DIR
    points, tizza-healthcheck (deploy/docker/healthcheck.sh) and its interpreter (bash), and
    copies in the ENTRYPOINT, a symbolic link to that binary."""
    problems = []
    rel = SERVICE_DOCKERFILE
    for name in SERVICES:
        stages = p.image(name)
        if not stages:
            return [f"{rel}: missing"]
        final = stages[-1]
        where = f"{rel} (SERVICE={name})"
        plan, probs = service_rootfs(stages)
        if probs:
            problems += [f"{where}: {x}" for x in probs]
            continue
        files, paths = plan["files"], image_paths(plan)
        if plan["installed"].get(plan["script"]) != f"{DOCKER_DIR}/rootfs.sh":
            problems.append(f"{where}: runs {plan['script']}, not {DOCKER_DIR}/rootfs.sh")
        binary = f"/usr/local/bin/tizza-{name}"
        if binary not in files or not plan["installed"].get(binary, "").endswith(f"build/bin/tizza-{name}"):
            problems.append(f"{where}: rootfs.sh is not given build/bin/tizza-{name} as {binary}")
        lib_dir = image_env(final).get("TIZZA_LIB_DIR")
        plugin = f"{lib_dir}/{PLUGIN}"
        if plugin not in files or not plan["installed"].get(plugin, "").endswith(f"build/lib/{PLUGIN}"):
            problems.append(f"{where}: rootfs.sh is not given the plugin (build/lib/{PLUGIN}) in "
                            f"TIZZA_LIB_DIR ({lib_dir})")
        hc = healthcheck_cmd(final)
        if not hc or hc[0] not in files or plan["installed"].get(hc[0]) != f"{DOCKER_DIR}/healthcheck.sh":
            problems.append(f"{where}: rootfs.sh is not given {DOCKER_DIR}/healthcheck.sh as the "
                            f"HEALTHCHECK's {hc[0] if hc else None}")
        interpreter = shebang(p.scripts.get("healthcheck.sh"))
        if interpreter not in files:
            problems.append(f"{where}: rootfs.sh is not given {interpreter}, tizza-healthcheck's interpreter")
        entry = (exec_form(final.last("ENTRYPOINT") or "") or [None])[0]
        if entry not in paths:
            problems.append(f"{where}: the ENTRYPOINT {entry} is not copied into {plan['dir']}")
        elif entry != binary and plan["links"].get(entry) != binary:
            problems.append(f"{where}: the ENTRYPOINT {entry} is not a link to {binary} "
                            f"(links: {plan['links']})")
    return problems


def check_service_image_config(p):
    """For each service, the runtime image: ENTRYPOINT exactly ["/usr/local/bin/tizza-service"]
    (exec form; the same for all four), CMD a subcommand of the binary, ENV only variables the
    binary reads, ENV PORT and EXPOSE the binary's port (from ARG PORT), TIZZA_LIB_DIR set,
    HEALTHCHECK on /health through the shipped tizza-healthcheck, SIGTERM to stop."""
    problems = []
    rel = SERVICE_DOCKERFILE
    for name in SERVICES:
        stages = p.image(name)
        if not stages:
            return [f"{rel}: missing"]
        st = stages[-1]
        where = f"{rel} (SERVICE={name}, PORT={p.help_ports.get(name)})"
        entry = exec_form(st.last("ENTRYPOINT") or "")
        if entry != [ENTRYPOINT]:
            problems.append(f"{where}: ENTRYPOINT {st.last('ENTRYPOINT')}, want [\"{ENTRYPOINT}\"]")
        cmd = exec_form(st.last("CMD") or "") or []
        if cmd[:1] and cmd[0] not in p.help_commands.get(name, set()):
            problems.append(f"{where}: CMD {cmd} is not a command of tizza-{name} --help")
        env = image_env(st)
        for var in env:
            if var != "PATH" and var not in p.allowed_env(name):
                problems.append(f"{where}: ENV {var}, which tizza-{name} does not read")
        port = str(p.help_ports.get(name))
        if env.get("PORT") != port:
            problems.append(f"{where}: ENV PORT={env.get('PORT')!r}, tizza-{name} serves {port}")
        if [e.split("/")[0] for e in st.all("EXPOSE")] != [port]:
            problems.append(f"{where}: EXPOSE {st.all('EXPOSE')}, want {port}")
        if not env.get("TIZZA_LIB_DIR"):
            problems.append(f"{where}: TIZZA_LIB_DIR not set")
        plan, _ = service_rootfs(stages)
        problems += healthcheck_ok(st, where, "/health", image_paths(plan))
        stop = st.last("STOPSIGNAL")
        if stop not in (None, "SIGTERM"):
            problems.append(f"{where}: STOPSIGNAL {stop}; the services drain on SIGTERM")
    return problems


def healthcheck_cmd(st):
    hc = st.last("HEALTHCHECK") or ""
    return exec_form(hc.split("CMD", 1)[1]) if "CMD" in hc else None


def healthcheck_ok(st, rel, path, shipped):
    """The stage's HEALTHCHECK asks `path` with a command among `shipped` (paths in the image)."""
    if not st.last("HEALTHCHECK"):
        return [f"{rel}: no HEALTHCHECK"]
    problems = []
    cmd = healthcheck_cmd(st)
    if not cmd or cmd[-1] != path:
        problems.append(f"{rel}: HEALTHCHECK {st.last('HEALTHCHECK')!r} does not ask {path}")
    if cmd and cmd[0] not in shipped:
        problems.append(f"{rel}: HEALTHCHECK runs {cmd[0]}, which the image does not contain")
    return problems


def passwd_uids(script):
    """The uids of the /etc/passwd lines a script writes (name:x:uid:gid:...)."""
    return {int(m) for m in re.findall(r"(?:^|\\n|['\"])[a-z_][a-z0-9_-]*:x:(\d+):\d+:", script or "", re.M)}


def check_images_non_root(p):
    """The Tizza images end with a numeric non-root USER (so Kubernetes' runAsNonRoot can
    verify it), the Deployments run as that same uid, and the service images' /etc/passwd
    (rootfs.sh) has that uid."""
    problems = []
    for name, rel in p.image_dockerfiles.items():
        stages = p.image(name)
        user = image_user(stages[-1] if stages else None)
        if user is None:
            problems.append(f"{rel}: no USER: the image runs as root")
        elif not user.isdigit():
            problems.append(f"{rel}: USER {user} is not numeric (runAsNonRoot cannot verify a name)")
        elif int(user) == 0:
            problems.append(f"{rel}: USER 0 is root")
        else:
            dep = p.k8s_doc("Deployment", name)
            if dep:
                uid = pod_security(dep).get("runAsUser")
                if uid is not None and uid != int(user):
                    problems.append(f"deploy/k8s: {name} runs as uid {uid}, the image as {user}")
            if rel == SERVICE_DOCKERFILE and int(user) not in passwd_uids(p.scripts.get("rootfs.sh")):
                problems.append(f"{DOCKER_DIR}/rootfs.sh: no /etc/passwd line for uid {user} ({rel}'s USER)")
    return sorted(set(problems))


def check_no_secrets_in_images(p):
    """No secret is baked into an image: no ENV/ARG that looks like a credential, no URL with
    a password, nothing secret-looking copied, and the build context leaves out .env files,
    keys, local databases and the git history."""
    problems = []
    for rel, stages in p.dockerfiles.items():
        for st in stages:
            for kw in ("ENV", "ARG"):
                for arg in st.all(kw):
                    pairs = env_pairs(arg) if kw == "ENV" else {arg.partition("=")[0]: arg.partition("=")[2]}
                    for key, value in pairs.items():
                        if SECRET_NAME.search(key) or key.endswith("_PASS"):
                            problems.append(f"{rel}: {kw} {key} looks like a secret")
                        if CREDENTIALS_IN_URL.search(value) or key in ("AMQP_URL", "STORE_URL"):
                            problems.append(f"{rel}: {kw} {key} bakes a connection string into the image")
            for kw in ("COPY", "ADD"):
                for arg in st.all(kw):
                    flags, srcs, _ = copy_parts(arg)
                    for src in srcs:
                        if re.search(r"(\.env$|\.pem$|\.key$|id_rsa|\.db$|^var/|^\.git)", src):
                            problems.append(f"{rel}: {kw} {src} copies something secret or local")
                        if kw == "ADD" and re.match(r"https?://", src):
                            problems.append(f"{rel}: ADD of a URL ({src})")
    for probe in (".env", "deploy/.env", "var/auth.db", "var/x.db-wal", ".git/config",
                  "build/bin/tizza-auth", "secrets/jwt.key", "deploy/tls.pem",
                  "services/web/node_modules/x/index.js", "tests/artifacts/a.db"):
        if not ignored(p.patterns, probe):
            problems.append(f".dockerignore: {probe} would be sent to the build")
    return problems


def check_build_context(p):
    """Every COPY source of every Dockerfile exists and survives .dockerignore, the service
    build stage receives every file `make` needs for the four binaries and the plugin, and
    the context stays small."""
    problems = []
    for rel, stages in p.dockerfiles.items():
        for st in stages:
            for arg in st.all("COPY"):
                flags, srcs, _ = copy_parts(arg)
                if flags.get("from"):
                    continue
                for src in srcs:
                    src = src.rstrip("/")
                    if not os.path.exists(os.path.join(p.root, src)):
                        problems.append(f"{rel}: COPY {src}: no such file")
                    elif not any(f == src or f.startswith(src + "/") for f in p.context):
                        problems.append(f"{rel}: COPY {src}: left out by .dockerignore")
    stages = p.dockerfiles.get(SERVICE_DOCKERFILE) or []
    if stages:
        copied = [s.rstrip("/") for arg in stages[0].all("COPY") for s in copy_parts(arg)[1]]
        for need in sorted(make_inputs(p)):
            if need not in p.context:
                problems.append(f"{SERVICE_DOCKERFILE}: make needs {need}, left out by .dockerignore")
            elif not any(need == c or need.startswith(c + "/") for c in copied):
                problems.append(f"{SERVICE_DOCKERFILE}: make needs {need}, not copied into the build stage")
    size = sum(p.context.values())
    if size > 8 * 1024 * 1024:
        problems.append(f".dockerignore: the build context is {size // 1024} KiB (> 8 MiB)")
    return problems


def make_inputs(p):
    """Source files `make` reads for the four binaries and the plugin, from `make -n -B`
    (what it would run) plus the Makefile itself."""
    if getattr(p, "_make_inputs", None) is None:
        out = subprocess.run(["make", "-n", "-B", "-C", p.root] + [f"build/bin/tizza-{s}" for s in SERVICES]
                             + [f"build/lib/{PLUGIN}"], capture_output=True, text=True).stdout
        files = {"Makefile"}
        for token in re.findall(r"[A-Za-z0-9_./-]+\.(?:c|h|yaml|sh)\b", out):
            if os.path.isfile(os.path.join(p.root, token)) and not token.startswith("build/"):
                files.add(token)
        # headers the objects depend on (the Makefile makes every object depend on them)
        files.update(f for f in p.context if re.fullmatch(r"libcommon/[^/]+\.h", f))
        p._make_inputs = files
    return p._make_inputs


def gateway_listen_port(p):
    m = re.search(r"^\s*listen\s+(\d+)\s*;", p.nginx.get("gateway.conf") or "", re.M)
    return int(m.group(1)) if m else None


def script_setting(script, name):
    """The value of a top-level `name=value` line of a shell script (None when absent)."""
    m = re.search(r"^%s=(\S+)" % re.escape(name), script or "", re.M)
    return m.group(1).strip("'\"") if m else None


def check_gateway_image(p):
    """The gateway image: the frontend built in the node stage and copied in; ENTRYPOINT
    (exec form) the tizza-gateway script (deploy/docker/gateway-entrypoint.sh); the upstreams
    template (deploy/nginx/upstreams.compose.conf) copied where that script reads it, outside
    conf.d; the file it renders directly in /tmp and included by the main config
    (gateway-nginx.conf) with conf.d, where gateway.conf is; EXPOSE and the health check on
    the port gateway.conf listens on."""
    problems = []
    rel = GATEWAY_DOCKERFILE
    stages = p.image("gateway")
    if len(stages) < 2:
        return [f"{rel}: missing or not multi-stage"]
    web, st = stages[0], stages[-1]
    runs = " ".join(web.all("RUN"))
    if "npm ci" not in runs or "npm run build" not in runs:
        problems.append(f"{rel}: the node stage must `npm ci` and `npm run build`")
    copies = {dst: (flags, srcs) for flags, srcs, dst in (copy_parts(a) for a in st.all("COPY"))}
    dst_of = {srcs[0]: dst for dst, (flags, srcs) in copies.items() if len(srcs) == 1 and not flags.get("from")}
    if dst_of.get("deploy/nginx/gateway.conf") != "/etc/nginx/conf.d/default.conf":
        problems.append(f"{rel}: does not copy deploy/nginx/gateway.conf to /etc/nginx/conf.d/default.conf")
    if dst_of.get("deploy/docker/gateway-nginx.conf") != "/etc/nginx/nginx.conf":
        problems.append(f"{rel}: does not copy deploy/docker/gateway-nginx.conf to /etc/nginx/nginx.conf")
    entry = exec_form(st.last("ENTRYPOINT") or "")
    script = dst_of.get(f"{DOCKER_DIR}/gateway-entrypoint.sh")
    if not script or entry != [script]:
        problems.append(f"{rel}: ENTRYPOINT {st.last('ENTRYPOINT')}, want [\"{script}\"] "
                        f"({DOCKER_DIR}/gateway-entrypoint.sh, exec form)")
    entrypoint = p.scripts.get("gateway-entrypoint.sh")
    template, out = script_setting(entrypoint, "template"), script_setting(entrypoint, "out")
    copied = dst_of.get("deploy/nginx/upstreams.compose.conf")
    if not copied or copied != template:
        problems.append(f"{rel}: copies deploy/nginx/upstreams.compose.conf to {copied}, the "
                        f"entrypoint reads the template from {template}")
    if copied and re.fullmatch(r"/etc/nginx/conf\.d/.*\.conf", copied):
        problems.append(f"{rel}: the upstreams template is in conf.d, which nginx includes unrendered")
    text = p.gateway_main or ""
    if not out or not re.fullmatch(r"/tmp/[^/]+", out):
        problems.append(f"gateway-entrypoint.sh: renders the upstreams to {out}, not directly in /tmp "
                        f"(the only writable place)")
    if not out or not re.search(r"^\s*include\s+%s\s*;" % re.escape(out or ""), text, re.M):
        problems.append(f"gateway-nginx.conf: does not include {out}, which the entrypoint renders")
    if "include /etc/nginx/conf.d/*.conf;" not in text:
        problems.append("gateway-nginx.conf: does not include /etc/nginx/conf.d/*.conf")
    if re.search(r"^\s*user\s", text, re.M):
        problems.append("gateway-nginx.conf: has a user directive (the image runs unprivileged)")
    for m in re.finditer(r"^\s*(pid|\w+_temp_path)\s+([^;\s]+)", text, re.M):
        if not re.fullmatch(r"/tmp/[^/]+", m.group(2)):
            problems.append(f"gateway-nginx.conf: {m.group(1)} {m.group(2)} is not directly in /tmp "
                            f"(the only writable place; nginx makes no parent directories)")
    dist = [(flags, srcs) for dst, (flags, srcs) in copies.items()
            if dst.rstrip("/") == "/usr/share/nginx/html"]
    root_m = re.search(r"^\s*root\s+([^;]+);", p.nginx.get("upstreams.compose.conf") or "", re.M)
    if not dist or dist[0][0].get("from") != web.name or not dist[0][1][0].rstrip("/").endswith("services/web/dist"):
        problems.append(f"{rel}: the built frontend (services/web/dist) is not copied to /usr/share/nginx/html")
    if not root_m or root_m.group(1).strip() != "/usr/share/nginx/html":
        problems.append("deploy/nginx/upstreams.compose.conf: root is not /usr/share/nginx/html")
    port = gateway_listen_port(p)
    if st.all("EXPOSE") != [str(port)]:
        problems.append(f"{rel}: EXPOSE {st.all('EXPOSE')}, gateway.conf listens on {port}")
    if image_env(st).get("PORT") != str(port):
        problems.append(f"{rel}: PORT (for tizza-healthcheck) is not {port}")
    problems += healthcheck_ok(st, rel, "/", set(copies))
    return problems


def check_gateway_upstreams(p):
    """deploy/nginx/upstreams.compose.conf sends each group to the compose service (and
    Kubernetes Service) of that name on the binary's port, in the one `server NAME:PORT`
    line the gateway's entrypoint expands to the replicas' addresses."""
    problems = []
    text = p.nginx.get("upstreams.compose.conf") or ""
    services = (p.compose or {}).get("services") or {}
    for name in SERVICES:
        m = re.search(r"upstream\s+tizza_%s\s*\{(.*?)\}" % name, text, re.S)
        if not m:
            problems.append(f"upstreams.compose.conf: no upstream tizza_{name}")
            continue
        servers = re.findall(r"^\s*server\s+([^\s;]+)", m.group(1), re.M)
        if servers != [f"{name}:{p.help_ports.get(name)}"]:
            problems.append(f"upstreams.compose.conf: tizza_{name} -> {servers}, want {name}:{p.help_ports.get(name)}")
        if name not in services:
            problems.append(f"upstreams.compose.conf: {name} is not a compose service")
        svc = p.k8s_doc("Service", name)
        if not svc or p.help_ports.get(name) not in [pt.get("port") for pt in svc["spec"].get("ports", [])]:
            problems.append(f"upstreams.compose.conf: no Kubernetes Service {name} on port {p.help_ports.get(name)}")
    return problems


# a `server NAME:PORT ARGS;` line, as gateway-entrypoint.sh's render() matches it
TEMPLATE_SERVER = re.compile(r"^([ \t]*)server[ \t]+([A-Za-z][A-Za-z0-9.-]*):([0-9]+)(.*)$", re.M)


def render_upstreams(template):
    """The template as the entrypoint renders it when every name resolves to 127.0.0.1."""
    return TEMPLATE_SERVER.sub(lambda m: f"{m.group(1)}server 127.0.0.1:{m.group(3)}{m.group(4)} # {m.group(2)}",
                               template)


def check_gateway_nginx_config(p):
    """The gateway image's nginx configuration as it runs (main config, the upstreams
    template rendered where the entrypoint writes it, gateway.conf in conf.d) passes
    `nginx -t` with Debian's nginx, the package the image installs, and includes both."""
    if shutil.which("nginx") is None:
        return ["nginx not installed (make deps)"]
    main = p.gateway_main
    if main is None or not all(p.nginx.values()):
        return ["deploy/docker/gateway-nginx.conf or deploy/nginx files missing"]
    out = script_setting(p.scripts.get("gateway-entrypoint.sh"), "out") or ""
    if not out.startswith("/tmp/"):
        return [f"gateway-entrypoint.sh: renders the upstreams to {out or '?'}, outside /tmp"]
    with tempfile.TemporaryDirectory(prefix="tizza-static-nginx.") as tmp:
        confd = os.path.join(tmp, "conf.d")
        os.makedirs(confd)
        rendered = os.path.join(tmp, out[len("/tmp/"):])
        upstreams = render_upstreams(p.nginx["upstreams.compose.conf"]).replace("/usr/share/nginx/html", tmp)
        open(rendered, "w").write(upstreams)
        open(os.path.join(confd, "default.conf"), "w").write(p.nginx["gateway.conf"])
        main = main.replace("/tmp/", tmp + "/").replace("/etc/nginx/conf.d/", confd + "/")
        main_path = os.path.join(tmp, "nginx.conf")
        open(main_path, "w").write(main)
        # -T: test, then dump every file the config pulled in
        r = subprocess.run(["nginx", "-e", "stderr", "-p", tmp, "-c", main_path, "-T"],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            return [f"nginx -t: {r.stderr.strip()}"]
        for f in (rendered, f"{confd}/default.conf"):
            if f"# configuration file {f}:" not in r.stdout:
                return [f"nginx: the main config does not include {f.replace(tmp, '<image>')}"]
    return []


# =============================================================== Kubernetes

NAMESPACED = {"ConfigMap", "Secret", "Deployment", "StatefulSet", "Service", "Job",
              "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "Ingress"}


def pod_spec(workload):
    return ((workload.get("spec") or {}).get("template") or {}).get("spec") or {}


def pod_security(workload):
    return pod_spec(workload).get("securityContext") or {}


def containers(workload):
    return pod_spec(workload).get("containers") or []


def check_k8s_manifests(p):
    """The production overlay renders (kustomize build); every rendered object names its
    apiVersion, kind and name and lives in the tizza namespace; every file under deploy/k8s is
    reached from the overlay's kustomization (resources, components, patches) except the
    *.example.yaml templates, which none may reach; every path a kustomization names exists."""
    problems = []
    for rel, d in p.k8s:
        if not isinstance(d, dict) or not d.get("apiVersion") or not d.get("kind"):
            problems.append(f"{rel}: a document without apiVersion/kind")
            continue
        meta = d.get("metadata") or {}
        if not meta.get("name"):
            problems.append(f"{rel}: {d['kind']} without a name")
        if d["kind"] in NAMESPACED and meta.get("namespace") != "tizza":
            problems.append(f"{rel}: {d['kind']} {meta.get('name')} not in namespace tizza")
    if not any(rel == K8S_RENDERED for rel, _ in p.k8s):
        problems.append(f"{K8S_OVERLAY}: renders nothing")
    reached, seen, todo = set(), set(), [K8S_OVERLAY]
    while todo:
        directory = todo.pop()
        if directory in seen:
            continue
        seen.add(directory)
        found = kustomization_of(p.k8s_sources, directory)
        if not found:
            problems.append(f"{directory}: no kustomization.yaml")
            continue
        rel, kustomization = found
        reached.add(rel)
        for ref in kustomize_references(kustomization):
            target = os.path.normpath(os.path.join(directory, ref))
            if "://" in ref or not target.startswith(K8S_DIR + "/"):
                problems.append(f"{rel}: {ref} is outside {K8S_DIR}")
            elif os.path.isdir(os.path.join(p.root, target)):
                todo.append(target)
            elif os.path.isfile(os.path.join(p.root, target)):
                reached.add(target)
            else:
                problems.append(f"{rel}: {ref} does not exist")
    for rel in p.k8s_sources:
        if rel.endswith(".example.yaml"):
            if rel in reached:
                problems.append(f"{rel}: a template, but {K8S_OVERLAY} applies it")
        elif rel not in reached:
            problems.append(f"{rel}: not part of {K8S_OVERLAY} (no kustomization it reaches names it)")
    return problems


def check_k8s_api_schemas(p):
    """Every rendered object and the Secret templates are valid objects of the Kubernetes API
    (tests/static/k8s/validate.mjs with the npm package kubernetes-models): known apiVersion
    and kind, field types, required fields, enumerations, no unknown field."""
    node = shutil.which("node")
    if not node:
        return ["node not installed (make deps)"]
    tools = os.path.join(p.root, K8S_TOOLS)
    if not os.path.isdir(os.path.join(tools, "node_modules", "kubernetes-models")):
        return [f"{K8S_TOOLS}/node_modules missing: run {K8S_TOOLS}/setup.sh (make deps)"]
    docs = [d for _, d in p.k8s]
    if not docs:
        return ["no Kubernetes object to validate"]
    stream = "".join("---\n" + json.dumps(d) + "\n" for d in docs)
    r = subprocess.run([node, os.path.join(tools, "validate.mjs")], input=stream,
                       capture_output=True, text=True, timeout=300)
    if r.returncode == 0:
        return []
    lines = [line for line in r.stdout.splitlines() if not line.startswith("k8s schemas:")]
    return lines + r.stderr.strip().splitlines()[-5:] or [f"validate.mjs exited {r.returncode}"]


def check_k8s_workloads(p):
    """For each service: a Deployment whose container port is the binary's port, readiness
    on /ready and liveness on /health (routes the binaries serve), requests and limits,
    graceful termination longer than preStop + drain, rolling updates that never go below
    the replica count; a Service on that port; an HPA and a PDB that select it."""
    problems = []
    for name in SERVICES + ("gateway",):
        dep = p.k8s_doc("Deployment", name)
        if not dep:
            problems.append(f"no Deployment {name}")
            continue
        port = p.help_ports.get(name) if name != "gateway" else gateway_listen_port(p)
        labels = ((dep["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}
        selector = (dep["spec"].get("selector") or {}).get("matchLabels") or {}
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            problems.append(f"Deployment {name}: selector does not match its pod labels")
        cs = containers(dep)
        if len(cs) != 1:
            problems.append(f"Deployment {name}: want one container")
            continue
        c = cs[0]
        ports = {pt.get("name"): pt.get("containerPort") for pt in c.get("ports") or []}
        if list(ports.values()) != [port]:
            problems.append(f"Deployment {name}: containerPort {list(ports.values())}, serves {port}")
        want_probes = {"readinessProbe": "/ready", "livenessProbe": "/health"} if name != "gateway" \
            else {"readinessProbe": None, "livenessProbe": None}
        for probe, path in want_probes.items():
            get = (c.get(probe) or {}).get("httpGet") or {}
            if not get:
                problems.append(f"Deployment {name}: no {probe} (httpGet)")
                continue
            if path and get.get("path") != path:
                problems.append(f"Deployment {name}: {probe} on {get.get('path')}, want {path}")
            if path and path not in p.routes:
                problems.append(f"Deployment {name}: {probe} path {path} is not served (libcommon/http_builtin.c)")
            pport = get.get("port")
            if ports.get(pport, pport) != port:
                problems.append(f"Deployment {name}: {probe} port {pport} is not {port}")
        res = c.get("resources") or {}
        for kind, keys in (("requests", ("cpu", "memory")), ("limits", ("memory",))):
            for k in keys:
                if not (res.get(kind) or {}).get(k):
                    problems.append(f"Deployment {name}: no resources.{kind}.{k}")
        grace = pod_spec(dep).get("terminationGracePeriodSeconds", 30)
        pre = (((c.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}).get("command") or []
        pre_s = int(pre[1]) if len(pre) == 2 and pre[0] == "sleep" and pre[1].isdigit() else None
        if pre_s is None:
            problems.append(f"Deployment {name}: no preStop sleep (endpoint removal must win the race)")
        elif name != "gateway" and grace <= pre_s + DRAIN_S:
            problems.append(f"Deployment {name}: terminationGracePeriodSeconds {grace} <= preStop "
                            f"{pre_s} + drain {DRAIN_S}")
        ru = ((dep["spec"].get("strategy") or {}).get("rollingUpdate") or {})
        if ru.get("maxUnavailable") not in (0, "0", "0%"):
            problems.append(f"Deployment {name}: rollingUpdate.maxUnavailable must be 0")
        problems += service_hpa_pdb(p, name, labels, port)
    return problems


def service_hpa_pdb(p, name, pod_labels, port):
    problems = []
    svc = p.k8s_doc("Service", name)
    if not svc:
        return [f"no Service {name}"]
    sel = svc["spec"].get("selector") or {}
    if not sel or any(pod_labels.get(k) != v for k, v in sel.items()):
        problems.append(f"Service {name}: selector does not select the Deployment's pods")
    ports = svc["spec"].get("ports") or []
    if not ports or ports[0].get("port") != port:
        problems.append(f"Service {name}: port {[pt.get('port') for pt in ports]}, want {port}")
    hpa = p.k8s_doc("HorizontalPodAutoscaler", name)
    if not hpa:
        problems.append(f"no HorizontalPodAutoscaler {name}")
    else:
        ref = hpa["spec"].get("scaleTargetRef") or {}
        if ref.get("kind") != "Deployment" or not p.k8s_doc("Deployment", ref.get("name")) or ref.get("name") != name:
            problems.append(f"HPA {name}: scaleTargetRef {ref} is not Deployment {name}")
        lo, hi = hpa["spec"].get("minReplicas", 1), hpa["spec"].get("maxReplicas", 0)
        if lo < 2 or hi < lo:
            problems.append(f"HPA {name}: min {lo} / max {hi} (want 2 <= min <= max)")
    pdb = p.k8s_doc("PodDisruptionBudget", name)
    if not pdb:
        problems.append(f"no PodDisruptionBudget {name}")
    else:
        sel = (pdb["spec"].get("selector") or {}).get("matchLabels") or {}
        if not sel or any(pod_labels.get(k) != v for k, v in sel.items()):
            problems.append(f"PDB {name}: selector does not match the Deployment's pods")
        lo = hpa["spec"].get("minReplicas", 1) if hpa else 1
        if pdb["spec"].get("minAvailable", 0) >= lo:
            problems.append(f"PDB {name}: minAvailable >= replicas: a node drain could never evict")
    return problems


def check_k8s_security(p):
    """Every Tizza pod runs as non-root with a read-only root file system, no privilege
    escalation and no capabilities; so do the data stores (their images' own users)."""
    problems = []
    for kind in ("Deployment", "StatefulSet", "Job"):
        for d in p.k8s_docs(kind):
            name = d["metadata"]["name"]
            sec = pod_security(d)
            if sec.get("runAsNonRoot") is not True or not sec.get("runAsUser"):
                problems.append(f"{kind} {name}: runAsNonRoot/runAsUser not set")
            for c in containers(d):
                cs = c.get("securityContext") or {}
                if cs.get("allowPrivilegeEscalation") is not False:
                    problems.append(f"{kind} {name}: allowPrivilegeEscalation not false")
                if "ALL" not in ((cs.get("capabilities") or {}).get("drop") or []):
                    problems.append(f"{kind} {name}: capabilities not dropped")
                if kind == "Deployment" and cs.get("readOnlyRootFilesystem") is not True:
                    problems.append(f"{kind} {name}: root file system not read-only")
    return problems


def check_k8s_config(p):
    """Environment in the manifests: every name a service reads, every ConfigMap/Secret
    reference resolvable (Secrets from secrets.example.yaml), ports and service URLs right,
    each service its own MongoDB database on rs0 -- and no credential in a ConfigMap."""
    problems = []
    cms = {d["metadata"]["name"]: d.get("data") or {} for d in p.k8s_docs("ConfigMap")}
    secrets = {d["metadata"]["name"]: d.get("stringData") or d.get("data") or {}
               for d in p.k8s_docs("Secret")}
    k8s_services = {d["metadata"]["name"] for d in p.k8s_docs("Service")}
    databases = {}
    for name in SERVICES:
        dep = p.k8s_doc("Deployment", name)
        if not dep or not containers(dep):
            continue
        c = containers(dep)[0]
        env = {}
        for src in c.get("envFrom") or []:
            ref = src.get("configMapRef") or src.get("secretRef") or {}
            table = cms if "configMapRef" in src else secrets
            if ref.get("name") not in table:
                problems.append(f"{name}: envFrom {ref.get('name')} does not exist")
                continue
            env.update({k: str(v) for k, v in table[ref["name"]].items()})
        for e in c.get("env") or []:
            vf = e.get("valueFrom") or {}
            ref = vf.get("secretKeyRef") or vf.get("configMapKeyRef")
            if ref:
                table = secrets if "secretKeyRef" in vf else cms
                if ref.get("optional") and ref.get("key") not in table.get(ref.get("name"), {}):
                    continue  # optional and absent: the variable is simply unset
                if ref.get("name") not in table or ref.get("key") not in table[ref["name"]]:
                    problems.append(f"{name}: {e['name']} refers to {ref.get('name')}/{ref.get('key')}, "
                                    f"which does not exist")
                    continue
                env[e["name"]] = str(table[ref["name"]][ref["key"]])
            else:
                env[e["name"]] = str(e.get("value", ""))
        allowed = p.allowed_env(name)
        for var in env:
            if var not in allowed:
                problems.append(f"{name}: gets {var}, which tizza-{name} does not read")
        if env.get("PORT") and int(env["PORT"]) != p.help_ports.get(name):
            problems.append(f"{name}: PORT={env['PORT']}, tizza-{name} serves {p.help_ports.get(name)}")
        store = urlsplit(env.get("STORE_URL", ""))
        if store.scheme != "mongodb" or "replicaSet=rs0" not in store.query:
            problems.append(f"{name}: STORE_URL is not a mongodb://...?replicaSet=rs0 URL")
        databases.setdefault(store.path, []).append(name)
        host = (store.hostname or "").split(".")
        if len(host) < 2 or host[1] not in k8s_services:
            problems.append(f"{name}: STORE_URL host {store.hostname} is not a pod of a Service here")
        problems += url_targets_ok(p, name, env, k8s_services)
    for db, owners in databases.items():
        if len(owners) > 1:
            problems.append(f"services {owners} share the database {db}")
    for cm, data in cms.items():
        for k, v in data.items():
            if SECRET_NAME.search(k) or CREDENTIALS_IN_URL.search(str(v)) or k in ("AMQP_URL", "STORE_URL"):
                problems.append(f"ConfigMap {cm}: {k} belongs in a Secret")
    return problems


def check_k8s_secrets_are_templates(p):
    """Secrets appear only in *.example.yaml (never applied), every secret value there is a
    CHANGE_ME placeholder, and the placeholder signing key is one auth refuses at start."""
    problems = []
    for rel, d in p.k8s:
        if d.get("kind") != "Secret":
            continue
        if not rel.endswith(".example.yaml"):
            problems.append(f"{rel}: a Secret with values in the repository")
        for k, v in (d.get("stringData") or {}).items():
            if SECRET_NAME.search(k) or k.endswith("_PASS"):
                if v != "CHANGE_ME":
                    problems.append(f"{rel}: {k} is not the CHANGE_ME placeholder")
            m = CREDENTIALS_IN_URL.search(str(v))
            if m and "CHANGE_ME@" not in str(v):
                problems.append(f"{rel}: {k} holds a password that is not CHANGE_ME")
        if d.get("data"):
            problems.append(f"{rel}: base64 `data` in a template (use stringData placeholders)")
    if not any(d.get("kind") == "Secret" and rel.endswith(".example.yaml") for rel, d in p.k8s):
        problems.append(f"{K8S_DIR}: no Secret template (*.example.yaml) to check")
    return problems


def check_k8s_data_stores(p):
    """MongoDB and RabbitMQ are StatefulSets with persistent volumes and Services; MongoDB
    runs rs0 and the init Job initiates it with the member address the STORE_URLs name."""
    problems = []
    for name, port in (("mongo", 27017), ("rabbitmq", 5672)):
        sts = p.k8s_doc("StatefulSet", name)
        if not sts:
            problems.append(f"no StatefulSet {name}")
            continue
        if not sts["spec"].get("volumeClaimTemplates"):
            problems.append(f"StatefulSet {name}: no volumeClaimTemplates (data would not persist)")
        svc = p.k8s_doc("Service", name)
        if not svc or port not in [pt.get("port") for pt in svc["spec"].get("ports") or []]:
            problems.append(f"Service {name} on {port} missing")
        if sts["spec"].get("serviceName") != name:
            problems.append(f"StatefulSet {name}: serviceName is not {name}")
    mongo = p.k8s_doc("StatefulSet", "mongo")
    if mongo and containers(mongo) and "rs0" not in " ".join(containers(mongo)[0].get("args") or []):
        problems.append("StatefulSet mongo: not started with --replSet rs0")
    svc = p.k8s_doc("Service", "mongo")
    if svc and not svc["spec"].get("publishNotReadyAddresses"):
        problems.append("Service mongo: publishNotReadyAddresses must be true (the member must resolve before it is primary)")
    job = p.k8s_doc("Job", "mongo-rs-init")
    secrets = {d["metadata"]["name"]: d.get("stringData") or {} for d in p.k8s_docs("Secret")}
    hosts = {urlsplit(v).netloc for k, v in (secrets.get("tizza-secrets") or {}).items()
             if k.endswith("STORE_URL")}
    if not job:
        problems.append("no Job mongo-rs-init")
    else:
        cmd = " ".join((containers(job) or [{}])[0].get("command") or [])
        for h in hosts:
            if f"host: '{h}'" not in cmd:
                problems.append(f"Job mongo-rs-init: does not initiate rs0 with member {h}")
    return problems


# =============================================================== monitoring

def check_prometheus(p):
    """Prometheus scrapes every replica of every service (DNS service discovery on the
    compose service name, the binary's port, /metrics), and RabbitMQ's per-queue metrics."""
    problems = []
    jobs = {j.get("job_name"): j for j in (p.prometheus or {}).get("scrape_configs") or []}
    services = (p.compose or {}).get("services") or {}
    for name in SERVICES:
        j = jobs.get(name)
        if not j:
            problems.append(f"prometheus.yml: no job {name}")
            continue
        if j.get("metrics_path", "/metrics") != "/metrics" or "/metrics" not in p.routes:
            problems.append(f"prometheus.yml: job {name} scrapes {j.get('metrics_path')}")
        sds = j.get("dns_sd_configs") or []
        if len(sds) != 1 or sds[0].get("names") != [name] or sds[0].get("type", "SRV") != "A":
            problems.append(f"prometheus.yml: job {name} must discover every replica (dns_sd_configs A {name})")
        elif sds[0].get("port") != p.help_ports.get(name):
            problems.append(f"prometheus.yml: job {name} port {sds[0].get('port')}, serves {p.help_ports.get(name)}")
        if name not in services:
            problems.append(f"prometheus.yml: {name} is not a compose service")
    queues = [j for j in jobs.values() if j.get("metrics_path") == "/metrics/detailed"]
    if not queues or "queue_coarse_metrics" not in ((queues[0].get("params") or {}).get("family") or []):
        problems.append("prometheus.yml: no job scraping rabbitmq /metrics/detailed?family=queue_coarse_metrics")
    else:
        for sc in queues[0].get("static_configs") or []:
            for t in sc.get("targets") or []:
                host, _, port = t.partition(":")
                if host not in services or port != "15692":
                    problems.append(f"prometheus.yml: RabbitMQ target {t} is not rabbitmq:15692")
    return problems


def dashboard_exprs(p):
    for fname, d in p.dashboards.items():
        for panel in d.get("panels") or []:
            for t in panel.get("targets") or []:
                yield fname, panel, t.get("expr", "")


def check_grafana(p):
    """The provisioned dashboard: every query names metrics the code exports (or RabbitMQ's
    exporter does), its datasource is the provisioned one, and it has the panels the
    runbook reads: request rate, p99 latency and errors per service and route, outbox
    backlog, queue depth, DLQ depth. Provisioning paths match the compose mounts."""
    problems = []
    ds = ((p.grafana_datasources or {}).get("datasources") or [{}])[0]
    if urlsplit(ds.get("url", "")).hostname != "prometheus" or urlsplit(ds.get("url", "")).port != 9090:
        problems.append("grafana datasource: url is not http://prometheus:9090")
    exprs = []
    for fname, panel, expr in dashboard_exprs(p):
        exprs.append(expr)
        uid = (panel.get("datasource") or {}).get("uid")
        if uid != ds.get("uid"):
            problems.append(f"{fname}: panel {panel.get('title')!r} uses datasource {uid}, provisioned is {ds.get('uid')}")
        for word in re.findall(r"\b((?:tizza|rabbitmq)_[a-z0-9_]+)", expr):
            base = re.sub(r"_(bucket|sum|count)$", "", word)
            if word.startswith("tizza_") and base not in p.metric_names and word not in p.metric_names:
                problems.append(f"{fname}: {panel.get('title')!r} uses {word}, which no service exports")
            elif word.startswith("rabbitmq_") and word not in RABBITMQ_METRICS:
                problems.append(f"{fname}: {panel.get('title')!r} uses {word}, not a RabbitMQ exporter metric")
        if expr.count("(") != expr.count(")") or expr.count("{") != expr.count("}"):
            problems.append(f"{fname}: unbalanced query {expr}")
    joined = "\n".join(exprs)
    needs = {
        "request rate per service and route": r"rate\(tizza_http_requests_total\{[^}]*\}\[[^\]]+\]\)\)?",
        "p99 per service and route": r"histogram_quantile\(0\.99, sum by \(job, route, le\) \(rate\(tizza_http_request_duration_seconds_bucket",
        "errors per service and route": r"sum by \(job, route, status\) \(rate\(tizza_http_requests_total\{[^}]*status=~\"5",
        "outbox backlog": r"tizza_outbox_backlog",
        "queue depth": r"rabbitmq_detailed_queue_messages\{queue!~",
        "DLQ depth": r"rabbitmq_detailed_queue_messages\{queue=~\"[^\"]*dlq",
    }
    for what, rx in needs.items():
        if not re.search(rx, joined):
            problems.append(f"dashboard: no panel for {what}")
    prov = ((p.grafana_providers or {}).get("providers") or [{}])[0]
    path = (prov.get("options") or {}).get("path")
    mounts = {v.split(":")[1]: v.split(":")[0] for v in
              ((p.compose or {}).get("services", {}).get("grafana") or {}).get("volumes") or []
              if isinstance(v, str) and v.count(":") >= 1}
    if mounts.get(path) != "./deploy/grafana/dashboards":
        problems.append(f"grafana: provider path {path} is not where compose mounts deploy/grafana/dashboards")
    if mounts.get("/etc/grafana/provisioning") != "./deploy/grafana/provisioning":
        problems.append("grafana: deploy/grafana/provisioning not mounted at /etc/grafana/provisioning")
    return problems


# =============================================================== the runbook

def check_runbook(p):
    """deploy/README.md covers the operations of running the stack (start, scale, rolling
    restart, backup, ...), and every repository path it names exists."""
    problems = []
    text = p.runbook
    if not text:
        return ["deploy/README.md missing"]
    for topic, rx in {"start": r"docker compose up", "scale": r"--scale",
                      "rolling restart": r"(?i)rolling restart", "backup": r"mongodump",
                      "restore": r"mongorestore", "dead letters": r"\.dlq",
                      "replay": r"(?i)shovel", "signing key rotation": r"AUTH_SIGNING_KEY",
                      "dashboards": r"(?i)grafana", "kubernetes": r"kubectl"}.items():
        if not re.search(rx, text):
            problems.append(f"deploy/README.md: nothing about {topic}")
    for path in set(re.findall(r"`((?:deploy|tests|tools|services|proto-docs|libcommon)/[^`\s*]+)`", text)):
        if "<" in path:  # a pattern such as deploy/docker/<service>.Dockerfile
            path = path.replace("<service>", "auth").replace("<name>", "auth")
        if not os.path.exists(os.path.join(p.root, path.rstrip("/"))):
            problems.append(f"deploy/README.md: names {path}, which does not exist")
    return problems


# =============================================================== the binaries themselves

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except OSError:
        return None, ""


def stop_procs(procs, label):
    """Stops the (name, Popen) pairs in reverse order: SIGTERM, up to 15 s to exit, then
    SIGKILL. Returns the problems, each prefixed with label(name): not stopped within 15 s,
    or an exit status other than 0."""
    problems = []
    for name, proc in reversed(procs):
        if proc.poll() is None:
            proc.terminate()  # SIGTERM
        try:
            rc = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
            problems.append(f"{label(name)}: did not stop within 15 s of SIGTERM")
        if rc != 0:
            problems.append(f"{label(name)}: exited {rc} after SIGTERM (want 0)")
    return problems


def check_live_binaries(p):
    """The built binaries serve what the manifests probe: each started on PORT (temp SQLite,
    no broker) answers /health 200, /ready 200 or a 503 naming the broker (the route exists),
    /metrics with the metric families the dashboard uses; auth first, the others fetch its
    JWKS. Each process is stopped with SIGTERM and must exit 0."""
    problems = []
    if any(not os.access(os.path.join(p.root, f"build/bin/tizza-{s}"), os.X_OK) for s in SERVICES):
        return ["build/bin not built (run make)"]
    procs = []
    tmp = tempfile.mkdtemp(prefix="tizza-static-live.")
    # auth keeps its signing key in its store encrypted with this key (required without
    # AUTH_SIGNING_KEY)
    kek = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    try:
        ports = {}
        for name in SERVICES:
            ports[name] = free_port()
            env = dict(os.environ, PORT=str(ports[name]), HOST="127.0.0.1", LOG_LEVEL="warn",
                       STORE_URL=f"sqlite://{tmp}/{name}.db",
                       AMQP_URL=f"amqp://guest:guest@127.0.0.1:{free_port()}/%2f",
                       AUTH_URL=f"http://127.0.0.1:{ports['auth']}", AUTH_WAIT_MS="10000",
                       AUTH_KEY_ENCRYPTION_KEY=kek)
            log = open(os.path.join(tmp, f"{name}.log"), "wb")
            proc = subprocess.Popen([os.path.join(p.root, f"build/bin/tizza-{name}"), "serve"],
                                    env=env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
            procs.append((name, proc))
            base = f"http://127.0.0.1:{ports[name]}"
            deadline = time.monotonic() + 15
            while http_get(base + "/health")[0] != 200:
                if proc.poll() is not None or time.monotonic() > deadline:
                    problems.append(f"tizza-{name}: /health never answered 200 on PORT={ports[name]}")
                    break
                time.sleep(0.05)
            else:
                status, body = http_get(base + "/ready")
                if status not in (200, 503) or (status == 503 and "broker" not in body):
                    problems.append(f"tizza-{name}: /ready answered {status} {body[:80]}")
                http_get(base + "/info")
                status, metrics = http_get(base + "/metrics")
                if status != 200:
                    problems.append(f"tizza-{name}: /metrics answered {status}")
                for family in ("tizza_http_requests_total", "tizza_http_request_duration_seconds_bucket",
                               "tizza_outbox_backlog", "tizza_events_consumed_total",
                               "tizza_amqp_published_total"):
                    if family not in metrics:
                        problems.append(f"tizza-{name}: /metrics lacks {family}")
                if 'route="/health"' not in metrics or 'method="GET"' not in metrics:
                    problems.append(f"tizza-{name}: /metrics lacks the route/method labels the dashboard groups by")
    finally:
        problems += stop_procs(procs, lambda name: f"tizza-{name}")
        shutil.rmtree(tmp, ignore_errors=True)
    return problems


ALL = [check_files_load, check_generated_files_fresh, check_manifest_ports,
       check_compose_services, check_compose_scalable, check_compose_ports,
       check_compose_health_and_order, check_compose_healthcheck_paths, check_compose_env,
       check_config_documented,
       check_compose_paths, check_compose_images_built, check_compose_offline,
       check_compose_mongo_rabbitmq,
       check_service_dockerfile_stages, check_service_rootfs, check_service_image_config,
       check_images_non_root, check_no_secrets_in_images, check_build_context,
       check_gateway_image, check_gateway_upstreams, check_gateway_nginx_config,
       check_k8s_manifests, check_k8s_api_schemas, check_k8s_workloads, check_k8s_security,
       check_k8s_config, check_k8s_secrets_are_templates, check_k8s_data_stores,
       check_prometheus, check_grafana, check_runbook, check_live_binaries]
