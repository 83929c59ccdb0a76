"""deploylib -- loads the deployment files and the facts they must agree with.

Design. `Project.load(root)` reads everything once into plain Python data: the compose file
and its offline override, the Dockerfiles under deploy/docker (parsed into stages of
instructions; service.Dockerfile serves the four services, told apart by its build arguments,
see Project.image), the scripts the images run (rootfs.sh, healthcheck.sh, the gateway's
entrypoint), .dockerignore, the Kubernetes manifests (the files under deploy/k8s, and the
objects kustomize renders from its production overlay), Prometheus and Grafana files, the
gateway's nginx files, and the facts from the code: the configuration table of the top-level
README, what each binary's --help lists (commands, environment, default port), the metric
names and environment names that appear in the C sources. The checks (checks.py) read
that snapshot, so the self-tests can deep-copy it, break one thing, and assert the check
notices.

Only the standard library and python3-yaml; the built binaries (build/bin) and kustomize
(tests/static/k8s/render.sh) are used when present, and their absence is a reported
problem, not a crash. """

import copy
import glob
import json
import os
import re
import shlex
import subprocess
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import gen  # noqa: E402  (the list of services: services/*/service.yaml)

SERVICES = tuple(s["name"] for s in gen.load_services(ROOT))
DOCKER_DIR = "deploy/docker"
SERVICE_DOCKERFILE = f"{DOCKER_DIR}/service.Dockerfile"  # the four services' image
GATEWAY_DOCKERFILE = f"{DOCKER_DIR}/gateway.Dockerfile"
COMPOSE_OFFLINE = f"{DOCKER_DIR}/compose.offline.yml"


# ---------------------------------------------------------------------------- Dockerfile

class Stage:
    def __init__(self, image, name):
        self.image = image  # "debian:bookworm"
        self.name = name  # "build" or None
        self.instructions = []  # [(KEYWORD, argument text)]

    def all(self, keyword):
        return [arg for kw, arg in self.instructions if kw == keyword]

    def last(self, keyword):
        found = self.all(keyword)
        return found[-1] if found else None


def parse_dockerfile(text):
    """Stages of a Dockerfile: line continuations joined, comments and parser directives
    dropped. Instructions before the first FROM (ARG) are ignored."""
    logical, current = [], ""
    for raw in text.splitlines():
        line = raw.rstrip()
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if current and line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        logical.append(current.strip())
        current = ""
    if current.strip():
        logical.append(current.strip())
    stages = []
    for line in logical:
        keyword, _, arg = line.partition(" ")
        keyword = keyword.upper()
        arg = arg.strip()
        if keyword == "FROM":
            words = arg.split()
            words = [w for w in words if not w.startswith("--platform")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        elif stages:
            stages[-1].instructions.append((keyword, arg))
    return stages


# Instructions in which Docker replaces $NAME / ${NAME} / ${NAME:-word} / ${NAME:+word} by
# the stage's ARG and ENV values (an unset name becomes empty).
SUBSTITUTED = {"ADD", "COPY", "ENV", "EXPOSE", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def substitute(text, scope, keep_unknown=False):
    def one(m):
        name = m.group(1) or m.group(4)
        if name not in scope:
            if keep_unknown:
                return m.group(0)
            value = ""
        else:
            value = scope[name]
        if m.group(2) == "-":
            return value or m.group(3)
        if m.group(2) == "+":
            return m.group(3) if value else ""
        return value
    return _VAR.sub(one, text)


def instantiate(stages, args):
    """The stages as `docker build --build-arg K=V ...` sees them: in each stage, from its
    `ARG NAME[=default]` on, NAME is the given value (else the default); ENV adds names.
    Docker's substituted instructions are expanded; RUN too, for the names in scope only (the
    shell sees them as environment variables), other `$...` left as written."""
    out = []
    for st in stages:
        new = Stage(st.image, st.name)
        scope = {}
        for kw, arg in st.instructions:
            if kw == "ARG":
                name, eq, default = arg.partition("=")
                name = name.strip()
                scope[name] = args[name] if name in args else (default.strip('"') if eq else "")
            elif kw in SUBSTITUTED:
                arg = substitute(arg, scope)
                if kw == "ENV":
                    scope.update(env_pairs(arg))
            elif kw == "RUN":
                arg = substitute(arg, scope, keep_unknown=True)
            new.instructions.append((kw, arg))
        out.append(new)
    return out


def shell_commands(run):
    """A RUN's simple commands as word lists (split at &&, ||, ; and |), or [] when its
    quoting does not parse."""
    commands = []
    for part in re.split(r"&&|\|\||;|\|", run):
        try:
            words = shlex.split(part)
        except ValueError:
            return []
        if words:
            commands.append(words)
    return commands


def exec_form(arg):
    """["a", "b"] -> [a, b]; shell form -> None."""
    arg = arg.strip()
    if arg.startswith("["):
        try:
            value = json.loads(arg)
        except ValueError:
            return None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    return None


def copy_parts(arg):
    """COPY/ADD argument -> (flags dict, [sources], destination)."""
    words = arg.split()
    flags = {}
    while words and words[0].startswith("--"):
        key, _, value = words.pop(0)[2:].partition("=")
        flags[key] = value
    form = exec_form(" ".join(words))
    if form is not None:
        words = form
    if len(words) < 2:
        return flags, [], None
    return flags, words[:-1], words[-1]


def env_pairs(arg):
    """ENV a=1 b="2 3" (or the legacy `ENV a 1`) -> {a: "1", b: "2 3"}."""
    try:
        words = shlex.split(arg)
    except ValueError:
        return {}
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    pairs = {}
    for w in words:
        key, _, value = w.partition("=")
        pairs[key] = value
    return pairs


def apt_installs(stage):
    """Package names given to `apt-get install` in a stage's RUN instructions."""
    packages = []
    for run in stage.all("RUN"):
        for m in re.finditer(r"apt-get\s+install\b(.*?)(?:&&|;|\|\||$)", run, re.S):
            for word in m.group(1).split():
                if word.startswith("-") or word == "\\":
                    continue
                packages.append(word)
    return packages


# ---------------------------------------------------------------------------- .dockerignore

def dockerignore_patterns(text):
    """[(negated, regex)] in file order, as Docker reads .dockerignore."""
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        if negated:
            line = line[1:].strip()
        line = os.path.normpath(line).lstrip("/")
        if line == ".":
            continue
        patterns.append((negated, line, re.compile(_glob_regex(line))))
    return patterns


def _glob_regex(pattern):
    """Go filepath.Match plus `**` (any number of directories), anchored."""
    out, i = "^", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):  # "**/" matches zero or more directories
                i += 1
                out += "(?:.*/)?"
            else:
                out += ".*"
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            j = pattern.find("]", i)
            if j < 0:
                out += re.escape(c)
            else:
                body = pattern[i + 1:j].replace("\\", "\\\\")
                if body.startswith("^") or body.startswith("!"):
                    body = "^" + body[1:]
                out += "[" + body + "]"
                i = j
        else:
            out += re.escape(c)
        i += 1
    return out + "$"


def ignored(patterns, path):
    """True when the context path (relative, '/'-separated) is left out of the build
    context: the last pattern matching the path or one of its parent directories wins."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    excluded = False
    for negated, _, regex in patterns:
        if any(regex.match(p) for p in prefixes):
            excluded = not negated
    return excluded


def context_files(root, patterns):
    """{relative path: size} of every file Docker would send as the build context."""
    files = {}
    negations = [text for negated, text, _ in patterns if negated]
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir
        keep = []
        for d in dirnames:
            rel = f"{rel_dir}/{d}" if rel_dir else d
            # prune a directory that is ignored and that no negation reaches into
            if ignored(patterns, rel) and not any(n == rel or n.startswith(rel + "/") or
                                                  "*" in n for n in negations):
                continue
            keep.append(d)
        dirnames[:] = keep
        for f in filenames:
            rel = f"{rel_dir}/{f}" if rel_dir else f
            if not ignored(patterns, rel):
                try:
                    files[rel] = os.path.getsize(os.path.join(root, rel))
                except OSError:
                    pass
    return files


# ---------------------------------------------------------------------------- the code

def readme_config_table(text):
    """Environment names in the first column of the README's configuration table."""
    names = set()
    section = re.search(r"^## Configuration\n(.*?)(?=^## )", text, re.S | re.M)
    if not section:
        return names
    for line in section.group(1).splitlines():
        if not line.startswith("|"):
            continue
        first = line.split("|")[1]
        names.update(t for t in re.findall(r"`([^`]+)`", first) if re.fullmatch(r"[A-Z][A-Z0-9_]+", t))
    return names


def help_rows(text):
    """The variables a binary's --help lists, one row each ("  NAME  meaning (default)") in
    its `environment` section."""
    _, _, env = text.partition("\nenvironment")
    return set(re.findall(r"^  ([A-Z][A-Z0-9_]+)(?: |$)", env, re.M))


def help_port(text):
    """PORT's default in the environment section: its row reads "  PORT  listen port (8002; ...)"."""
    m = re.search(r"^  PORT +[^(\n]*\((\d+)[;)]", text, re.M)
    return int(m.group(1)) if m else None


def c_sources(root):
    paths = []
    for sub in ["libcommon"] + [f"services/{s}" for s in SERVICES]:
        d = os.path.join(root, sub)
        if os.path.isdir(d):
            paths += [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".c")]
    return paths


def code_facts(root):
    """Uppercase string literals (environment names), tizza_ metric names and the GET
    routes every server registers (libcommon/http_builtin.c)."""
    literals, metrics, routes = set(), set(), set()
    for path in c_sources(root):
        text = open(path, errors="replace").read()
        literals.update(re.findall(r'"([A-Z][A-Z0-9_]{2,})"', text))
        metrics.update(re.findall(r'"(tizza_[a-z0-9_]+)"', text))
        if path.endswith("libcommon/http_builtin.c"):
            routes.update(re.findall(r'http_route\(srv, "GET", "(/[a-z./]*)"', text))
    return literals, metrics, routes


def help_commands(text):
    """The subcommands a binary's --help lists under `commands:`."""
    _, _, rest = text.partition("commands:")
    rest = rest.split("\n\n")[0]
    return set(re.findall(r"^  ([a-z][a-z-]*)\b", rest, re.M))


# ---------------------------------------------------------------------------- Kubernetes

K8S_DIR = "deploy/k8s"
K8S_OVERLAY = "deploy/k8s/overlays/production"
K8S_RENDERED = f"{K8S_OVERLAY} (rendered)"
K8S_TOOLS = "tests/static/k8s"


def render_k8s(root, overlay=K8S_OVERLAY):
    """([object], error or None): `kustomize build` of the overlay (tests/static/k8s/render.sh,
    the kubectl that k8s/setup.sh installs)."""
    try:
        r = subprocess.run(["bash", os.path.join(root, K8S_TOOLS, "render.sh"), os.path.join(root, overlay)],
                           capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return [], f"kustomize build {overlay}: {e}"
    if r.returncode != 0:
        return [], f"kustomize build {overlay} failed: {r.stderr.strip()[-2000:]}"
    try:
        return [d for d in yaml.safe_load_all(r.stdout) if d is not None], None
    except yaml.YAMLError as e:
        return [], f"kustomize build {overlay}: output does not parse: {e}"


def kustomization_of(sources, directory):
    """The kustomization (or Component) of a directory: (relative file, document) or None."""
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        rel = os.path.normpath(os.path.join(directory, name))
        if sources.get(rel):
            return rel, sources[rel][0]
    return None


def kustomize_references(kustomization):
    """Paths (relative to its directory) that a kustomization reads: resources, components
    and patch files."""
    k = kustomization or {}
    refs = list(k.get("resources") or []) + list(k.get("components") or []) + list(k.get("bases") or [])
    refs += [pt["path"] for pt in (k.get("patches") or []) if isinstance(pt, dict) and pt.get("path")]
    refs += [pt for pt in (k.get("patchesStrategicMerge") or []) if isinstance(pt, str) and "\n" not in pt]
    refs += [pt["path"] for pt in (k.get("patchesJson6902") or []) if isinstance(pt, dict) and pt.get("path")]
    return [r for r in refs if isinstance(r, str)]


# ---------------------------------------------------------------------------- snapshot

def read(root, rel):
    try:
        with open(os.path.join(root, rel), errors="replace") as f:
            return f.read()
    except OSError:
        return None


def load_yaml(root, rel, problems):
    text = read(root, rel)
    if text is None:
        problems.append(f"{rel}: missing")
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        problems.append(f"{rel}: does not parse: {e}")
        return None


class Project:
    """Everything the checks look at. Built once by load(); copies are cheap to mutate."""

    def copy(self):
        return copy.deepcopy(self)

    @classmethod
    def load(cls, root):
        p = cls()
        p.root = root
        p.load_problems = []  # files that are missing or do not parse
        p.compose = load_yaml(root, "docker-compose.yml", p.load_problems)

        p.compose_offline = load_yaml(root, COMPOSE_OFFLINE, p.load_problems)
        # the service manifests, and what tools/gen.py would write from them
        p.manifests = gen.load_services(root)

        # every Dockerfile under deploy/docker, by path; the image of each service and of the
        # gateway is one of them (Project.image)
        p.dockerfiles = {}
        found = sorted(glob.glob(os.path.join(root, DOCKER_DIR, "**", "*.Dockerfile"), recursive=True))
        for rel in [os.path.relpath(f, root) for f in found]:
            p.dockerfiles[rel] = parse_dockerfile(read(root, rel) or "")
        for rel in (SERVICE_DOCKERFILE, GATEWAY_DOCKERFILE):
            if rel not in p.dockerfiles:
                p.load_problems.append(f"{rel}: missing")
        p.image_dockerfiles = dict({s: SERVICE_DOCKERFILE for s in SERVICES}, gateway=GATEWAY_DOCKERFILE)
        p.scripts = {}  # what the images run, as text
        for rel in ("rootfs.sh", "healthcheck.sh", "gateway-entrypoint.sh"):
            p.scripts[rel] = read(root, f"{DOCKER_DIR}/{rel}")
            if p.scripts[rel] is None:
                p.load_problems.append(f"{DOCKER_DIR}/{rel}: missing")
        p.dockerignore_text = read(root, ".dockerignore")
        if p.dockerignore_text is None:
            p.load_problems.append(".dockerignore: missing")
        p.patterns = dockerignore_patterns(p.dockerignore_text or "")
        p.context = context_files(root, p.patterns)

        # Kubernetes: every YAML file under deploy/k8s as written (kustomizations, the service
        # template, patches, the Secret template), and the objects `kubectl apply -k` would
        # apply: the production overlay rendered by kustomize (k8s/render.sh). p.k8s holds
        # the rendered objects (file K8S_RENDERED) and the Secret templates' (*.example.yaml),
        # which the rendered objects refer to.
        p.k8s_sources = {}  # {relative file: [document]}
        kdir = os.path.join(root, K8S_DIR)
        for dirpath, dirnames, filenames in os.walk(kdir):
            dirnames.sort()
            for f in sorted(filenames):
                if not f.endswith((".yaml", ".yml")):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, f), root)
                try:
                    p.k8s_sources[rel] = [d for d in yaml.safe_load_all(read(root, rel)) if d is not None]
                except yaml.YAMLError as e:
                    p.load_problems.append(f"{rel}: does not parse: {e}")
        if not p.k8s_sources:
            p.load_problems.append(f"{K8S_DIR}: no manifests")
        rendered, error = render_k8s(root)
        if error:
            p.load_problems.append(error)
        p.k8s = [(K8S_RENDERED, d) for d in rendered]
        p.k8s += [(rel, d) for rel, docs in p.k8s_sources.items() if rel.endswith(".example.yaml")
                  for d in docs]

        p.prometheus = load_yaml(root, "deploy/prometheus/prometheus.yml", p.load_problems)
        p.grafana_datasources = load_yaml(
            root, "deploy/grafana/provisioning/datasources/prometheus.yml", p.load_problems)
        p.grafana_providers = load_yaml(
            root, "deploy/grafana/provisioning/dashboards/tizza.yml", p.load_problems)
        p.dashboards = {}
        ddir = os.path.join(root, "deploy/grafana/dashboards")
        for f in sorted(os.listdir(ddir)) if os.path.isdir(ddir) else []:
            if f.endswith(".json"):
                try:
                    p.dashboards[f] = json.loads(read(root, f"deploy/grafana/dashboards/{f}"))
                except ValueError as e:
                    p.load_problems.append(f"deploy/grafana/dashboards/{f}: not JSON: {e}")
        if not p.dashboards:
            p.load_problems.append("deploy/grafana/dashboards: no dashboard")

        p.nginx = {f: read(root, f"deploy/nginx/{f}")
                   for f in ("gateway.conf", "upstreams.compose.conf")}
        for f, text in p.nginx.items():
            if text is None:
                p.load_problems.append(f"deploy/nginx/{f}: missing (the gateway image copies it)")
        p.gateway_main = read(root, "deploy/docker/gateway-nginx.conf")
        if p.gateway_main is None:
            p.load_problems.append("deploy/docker/gateway-nginx.conf: missing")
        p.runbook = read(root, "deploy/README.md")

        p.config_table = readme_config_table(read(root, "README.md") or "")
        p.literals, p.metric_names, p.routes = code_facts(root)
        p.help_rows, p.help_ports, p.help_commands = {}, {}, {}
        for s in SERVICES:
            binary = os.path.join(root, f"build/bin/tizza-{s}")
            if not os.access(binary, os.X_OK):
                p.load_problems.append(f"build/bin/tizza-{s}: not built (run make)")
                continue
            text = subprocess.run([binary, "--help"], capture_output=True, text=True,
                                  timeout=30).stdout
            p.help_rows[s] = help_rows(text)
            p.help_ports[s] = help_port(text)
            p.help_commands[s] = help_commands(text)
        return p

    # -- derived facts ----------------------------------------------------------------------
    def image_args(self, name):
        """The build arguments `make images` (tools/images.sh) gives the image of `name`: a
        service's name and its binary's port."""
        return {"SERVICE": name, "PORT": str(self.help_ports.get(name))} if name in SERVICES else {}

    def image(self, name):
        """The stages of the image of `name` (a service or the gateway), its build
        arguments substituted."""
        return instantiate(self.dockerfiles.get(self.image_dockerfiles[name]) or [], self.image_args(name))

    def allowed_env(self, service):
        """Variables `service` reads: in the README table and in the code, and either a row
        of its --help or of no binary's --help (check_config_documented reports those)."""
        in_some_help = set().union(*self.help_rows.values())
        mine = self.help_rows.get(service, set())
        return {name for name in self.config_table
                if name in self.literals and (name in mine or name not in in_some_help)}

    def k8s_docs(self, kind, name=None):
        return [d for _, d in self.k8s if d.get("kind") == kind and
                (name is None or d.get("metadata", {}).get("name") == name)]

    def k8s_doc(self, kind, name):
        docs = self.k8s_docs(kind, name)
        return docs[0] if docs else None

