"""terraform_checks -- static checks of deploy/terraform (tests/static/run.sh, make test).

No terraform binary, provider or cloud is involved. Every deploy/terraform/*.tf (and
backend.hcl.example) is parsed by HashiCorp's HCL parser (the npm package @cdktf/hcl2json,
which tests/static/terraform/setup.sh installs; terraform/hcl2json.mjs runs it) into JSON:
blocks become {type: {name: [body]}}, expressions the strings "${...}". The checks read that,
beside the rest of the deployment snapshot (deploylib.Project: docker-compose.yml, the
rendered deploy/k8s overlay, the Secret template, deploy/README.md):

  the files parse; every var.X used is declared and every declared variable used; terraform
  pins required_version and every provider's version; remote state is a partial S3 backend
  with DynamoDB locking; the images are tizza/<service> for every service plus the gateway,
  as in compose and the manifests; the overlay applied is deploy/k8s/overlays/production
  and what it patches or leaves out exists there; the Secrets match the template's names
  and keys; the replica bounds cover every workload with an autoscaler; MongoDB's
  replacement keeps the NetworkPolicy and transaction settings; no secret value is written
  in the files; the runbook's Terraform section names only outputs and variables that exist.

The snapshot is p.terraform (loaded once per repository, copied into each Project copy), so
the self-tests (SELFTESTS, run by check_deploy.py) can break one thing and expect a check to
notice. """

import copy
import glob
import json
import os
import re
import subprocess

from deploylib import K8S_OVERLAY, SERVICES

TF_DIR = "deploy/terraform"
TF_TOOLS = "tests/static/terraform"
BACKEND_EXAMPLE = f"{TF_DIR}/backend.hcl.example"
GATEWAY = "gateway"

_CACHE = {}


# ------------------------------------------------------------------------ loading

def hcl2json(root, paths):
    """({relative path: parsed}, {relative path: error}, problem or None) for HCL files."""
    script = os.path.join(root, TF_TOOLS, "hcl2json.mjs")
    try:
        r = subprocess.run(["node", script] + paths, cwd=root, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return {}, {}, f"{TF_TOOLS}/hcl2json.mjs: {e}"
    if r.returncode != 0:
        return {}, {}, f"{TF_TOOLS}/hcl2json.mjs failed: {r.stderr.strip()[-1000:]}"
    out = json.loads(r.stdout)
    return out["files"], out["errors"], None


def load_terraform(root):
    """{"files": {rel: parsed .tf}, "errors": {rel: message}, "backend_example": parsed or
    None, "texts": {rel: text}, "problem": why nothing could be parsed, or None}."""
    rels = sorted(os.path.relpath(f, root) for f in glob.glob(os.path.join(root, TF_DIR, "*.tf")))
    extra = [BACKEND_EXAMPLE] if os.path.exists(os.path.join(root, BACKEND_EXAMPLE)) else []
    files, errors, problem = hcl2json(root, rels + extra) if rels else ({}, {}, None)
    texts = {}
    for rel in rels + [f"{TF_DIR}/.gitignore", f"{TF_DIR}/terraform.tfvars.example"]:
        try:
            with open(os.path.join(root, rel)) as f:
                texts[rel] = f.read()
        except OSError:
            texts[rel] = None
    return {"files": {k: v for k, v in files.items() if k.endswith(".tf")},
            "errors": errors, "backend_example": files.get(BACKEND_EXAMPLE), "texts": texts,
            "problem": problem if rels else f"{TF_DIR}: no .tf files"}


def tf(p):
    """The Terraform snapshot of project p (parsed once per repository)."""
    if not hasattr(p, "terraform"):
        if p.root not in _CACHE:
            _CACHE[p.root] = load_terraform(p.root)
        p.terraform = copy.deepcopy(_CACHE[p.root])
    return p.terraform


# ------------------------------------------------------------------------ reading the JSON

def named_blocks(p, kind):
    """{name: body} of the `variable`, `output`, `module` or `provider` blocks of every file."""
    found = {}
    for doc in tf(p)["files"].values():
        for name, bodies in (doc.get(kind) or {}).items():
            for body in bodies:
                found[name] = body
    return found


def typed_blocks(p, kind):
    """{(type, name): body} of the `resource` or `data` blocks of every file."""
    found = {}
    for doc in tf(p)["files"].values():
        for typ, by_name in (doc.get(kind) or {}).items():
            for name, bodies in by_name.items():
                for body in bodies:
                    found[(typ, name)] = body
    return found


def terraform_blocks(p):
    return [b for doc in tf(p)["files"].values() for b in doc.get("terraform") or []]


def tf_locals(p):
    merged = {}
    for doc in tf(p)["files"].values():
        for block in doc.get("locals") or []:
            merged.update(block)
    return merged


def strings(obj, key=None):
    """(attribute name, string) for every string in a parsed structure."""
    if isinstance(obj, str):
        yield key, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from strings(v, k)
    elif isinstance(obj, list):
        for v in obj:
            yield from strings(v, key)


def references(obj, kind):
    """Names X of every kind.X (var, local, ...) in the expressions of obj."""
    names = set()
    for _, s in strings(obj):
        if "${" in s:
            names.update(re.findall(rf"(?<![\w.]){kind}\.([A-Za-z_][\w-]*)", s))
    return names


def literal(p, value):
    """A string value with a plain local reference ("${local.x}") resolved."""
    m = re.fullmatch(r"\$\{local\.(\w+)\}", value or "")
    if m:
        return tf_locals(p).get(m.group(1))
    return value


def is_expression(value):
    return isinstance(value, str) and "${" in value


def overlay(p):
    """(name, body) of the data source kustomization_overlay, or (None, {})."""
    for (typ, name), body in typed_blocks(p, "data").items():
        if typ == "kustomization_overlay":
            return name, body
    return None, {}


def dynamic_blocks(body, name):
    return ((body.get("dynamic") or {}).get(name)) or []


def rendered(p, kind, name=None):
    return [d for rel, d in p.k8s if not rel.endswith(".example.yaml") and d.get("kind") == kind
            and (name is None or (d.get("metadata") or {}).get("name") == name)]


def loaded(p):
    """[problem] when nothing was parsed (each check then says so instead of passing)."""
    t = tf(p)
    if t["problem"]:
        return [t["problem"]]
    if not t["files"]:
        return [f"{TF_DIR}: no file parsed"]
    return []


# ------------------------------------------------------------------------ checks

def check_terraform_files(p):
    """Every deploy/terraform/*.tf parses (HashiCorp's HCL parser, @cdktf/hcl2json); the
    examples the runbook copies are there and .gitignore keeps state and settings out."""
    t = tf(p)
    problems = loaded(p)
    for rel, err in sorted(t["errors"].items()):
        problems.append(f"{rel}: does not parse: {err.splitlines()[0] if err else err}")
    if t["texts"].get(f"{TF_DIR}/terraform.tfvars.example") is None:
        problems.append(f"{TF_DIR}/terraform.tfvars.example: missing")
    ignore = t["texts"].get(f"{TF_DIR}/.gitignore") or ""
    for pattern in (".terraform/", "*.tfstate", "backend.hcl", "*.tfvars"):
        if pattern not in ignore.split():
            problems.append(f"{TF_DIR}/.gitignore: does not ignore {pattern}")
    return problems


def check_terraform_variables(p):
    """Every var.X used is declared, every declared variable is used (outside its own
    validation), and each has a type and a description."""
    problems = loaded(p)
    declared = named_blocks(p, "variable")
    used = set()
    for doc in tf(p)["files"].values():
        used |= references({k: v for k, v in doc.items() if k != "variable"}, "var")
    for name in sorted(used - set(declared)):
        problems.append(f"var.{name} is used but not declared")
    for name in sorted(set(declared) - used):
        problems.append(f"variable {name} is declared but never used")
    for name, body in sorted(declared.items()):
        if not body.get("description"):
            problems.append(f"variable {name}: no description")
        if not body.get("type"):
            problems.append(f"variable {name}: no type")
    return problems


def check_terraform_versions(p):
    """The terraform block pins required_version and every provider's source and version
    (with an upper bound), every provider used is required, every module has a version."""
    problems = loaded(p)
    blocks = terraform_blocks(p)
    if not any(b.get("required_version") for b in blocks):
        problems.append("terraform: no required_version")
    required = {}
    for b in blocks:
        for rp in b.get("required_providers") or []:
            required.update(rp)
    if not required:
        problems.append("terraform: no required_providers")
    for name, spec in sorted(required.items()):
        if not isinstance(spec, dict) or not spec.get("source"):
            problems.append(f"required_providers.{name}: no source")
            continue
        version = spec.get("version") or ""
        if not version:
            problems.append(f"required_providers.{name}: no version")
        elif not re.search(r"~>|<|^=?\s*\d+\.\d+\.\d+$", version):
            problems.append(f"required_providers.{name}: version {version!r} has no upper bound")
    used = {typ.split("_")[0] for kind in ("resource", "data") for typ, _ in typed_blocks(p, kind)}
    used |= set(named_blocks(p, "provider"))
    for name in sorted(used - set(required)):
        problems.append(f"provider {name} is used but not in required_providers")
    for name, body in sorted(named_blocks(p, "module").items()):
        source = body.get("source", "")
        if not source.startswith(("./", "../")) and not body.get("version"):
            problems.append(f"module {name}: {source} without a version")
    return problems


def check_terraform_backend(p):
    """Remote state: a partial S3 backend in the terraform block (no settings written in
    it), and backend.hcl.example sets bucket, key, region, dynamodb_table and encrypt."""
    problems = loaded(p)
    backends = [(kind, body) for b in terraform_blocks(p)
                for kind, bodies in (b.get("backend") or {}).items() for body in bodies]
    if [k for k, _ in backends] != ["s3"]:
        problems.append(f"terraform: backends {[k for k, _ in backends]}, want one \"s3\"")
    for kind, body in backends:
        if body:
            problems.append(f"backend {kind}: sets {sorted(body)} in the files (partial "
                            "configuration: they belong in backend.hcl)")
    example = tf(p)["backend_example"]
    if example is None:
        problems.append(f"{BACKEND_EXAMPLE}: missing or does not parse")
    else:
        for key in ("bucket", "key", "region", "dynamodb_table"):
            if not example.get(key):
                problems.append(f"{BACKEND_EXAMPLE}: no {key}")
        if example.get("encrypt") is not True:
            problems.append(f"{BACKEND_EXAMPLE}: encrypt is not true")
        for key in ("access_key", "secret_key", "token"):
            if key in example:
                problems.append(f"{BACKEND_EXAMPLE}: holds {key} (credentials come from the environment)")
    return problems


def image_name(ref):
    """registry/tizza/auth:tag -> tizza/auth (the part the manifests and compose name)."""
    head, slash, last = ref.split("@", 1)[0].rpartition("/")
    return head + slash + last.split(":", 1)[0]


def check_terraform_images(p):
    """The images Terraform sets are tizza/<service> for every service (services/*) and
    tizza/gateway: the tizza/ images of docker-compose.yml and of the rendered manifests;
    the overlay renames each to <image_registry>/<name>:<image_tag>."""
    problems = loaded(p)
    want = {f"tizza/{s}" for s in SERVICES} | {f"tizza/{GATEWAY}"}
    images = tf_locals(p).get("images")
    if not isinstance(images, list):
        return problems + ["locals: no literal list `images`"]
    mine = set(images)
    if mine != want:
        problems.append(f"local.images {sorted(mine)} != the services' and the gateway's {sorted(want)}")
    compose = {image_name(s.get("image", "")) for s in ((p.compose or {}).get("services") or {}).values()}
    compose = {i for i in compose if i.startswith("tizza/")}
    if mine != compose:
        problems.append(f"local.images {sorted(mine)} != docker-compose.yml's {sorted(compose)}")
    k8s = {image_name(c.get("image", "")) for kind in ("Deployment", "StatefulSet", "Job")
           for d in rendered(p, kind)
           for c in ((d.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []}
    k8s = {i for i in k8s if i.startswith("tizza/")}
    if mine != k8s:
        problems.append(f"local.images {sorted(mine)} != the manifests' {sorted(k8s)}")
    _, body = overlay(p)
    blocks = dynamic_blocks(body, "images")
    if not any("local.images" in (b.get("for_each") or "") for b in blocks):
        problems.append("kustomization_overlay: no dynamic images block over local.images")
    for b in blocks:
        content = (b.get("content") or [{}])[0]
        if "var.image_registry" not in content.get("new_name", ""):
            problems.append("kustomization_overlay images: new_name is not under var.image_registry")
        if content.get("new_tag") != "${var.image_tag}":
            problems.append("kustomization_overlay images: new_tag is not var.image_tag")
    return problems


def check_terraform_kustomize(p):
    """The kustomization_overlay builds deploy/k8s/overlays/production in its namespace;
    kustomization_resource applies all three priority sets of it; what it patches or leaves
    out (replaced_by_operator) exists in the rendered overlay."""
    problems = loaded(p)
    name, body = overlay(p)
    if not name:
        return problems + ["no data source kustomization_overlay"]
    paths = [os.path.normpath(r.replace("${path.module}", TF_DIR)) for r in body.get("resources") or []]
    if K8S_OVERLAY not in paths:
        problems.append(f"kustomization_overlay.{name}: resources {paths} do not include {K8S_OVERLAY}")
    for path in paths:
        if not os.path.isdir(os.path.join(p.root, path)):
            problems.append(f"kustomization_overlay.{name}: {path} does not exist")
    overlay_ns = (p.k8s_sources.get(f"{K8S_OVERLAY}/kustomization.yaml") or [{}])[0].get("namespace")
    if literal(p, body.get("namespace")) != overlay_ns:
        problems.append(f"kustomization_overlay.{name}: namespace {literal(p, body.get('namespace'))!r}, "
                        f"the overlay's is {overlay_ns!r}")
    applied = set()
    for (typ, rname), res in typed_blocks(p, "resource").items():
        if typ != "kustomization_resource":
            continue
        m = re.fullmatch(rf"\$\{{data\.kustomization_overlay\.{name}\.ids_prio\[(\d)\]\}}", res.get("for_each", ""))
        if m:
            applied.add(int(m.group(1)))
            if res.get("manifest") != f"${{data.kustomization_overlay.{name}.manifests[each.value]}}":
                problems.append(f"kustomization_resource.{rname}: manifest is not the overlay's manifests[each.value]")
    for prio in sorted({0, 1, 2} - applied):
        problems.append(f"no kustomization_resource applies ids_prio[{prio}] of the overlay")
    for o in tf_locals(p).get("replaced_by_operator") or []:
        if not rendered(p, o.get("kind"), o.get("name")):
            problems.append(f"local.replaced_by_operator: {o.get('kind')} {o.get('name')} is not in the overlay")
    for patch in body.get("patches") or []:
        target = patch.get("target") or {}
        kind, tname = target.get("kind"), target.get("name")
        if kind and tname and not is_expression(tname) and not rendered(p, kind, tname):
            problems.append(f"kustomization_overlay patch: target {kind} {tname} is not in the overlay")
    return problems


# Keys auth reads for its signing key: one of them must be in tizza-secrets or it exits.
AUTH_KEYS = ("AUTH_SIGNING_KEY", "AUTH_KEY_ENCRYPTION_KEY")


def secret_refs(p):
    """{secret name: {key: optional}} from the rendered workloads' secretKeyRefs, and the
    names of Secrets read whole (envFrom secretRef, not optional)."""
    keys, whole = {}, set()
    for kind in ("Deployment", "StatefulSet", "Job"):
        for d in rendered(p, kind):
            for c in ((d.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []:
                for e in c.get("env") or []:
                    ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                    if ref:
                        slot = keys.setdefault(ref.get("name"), {})
                        slot[ref.get("key")] = slot.get(ref.get("key"), True) and bool(ref.get("optional"))
                for ef in c.get("envFrom") or []:
                    ref = ef.get("secretRef")
                    if ref and not ref.get("optional"):
                        whole.add(ref.get("name"))
    return keys, whole


def tf_secrets(p):
    """{name: (namespace, {key: value})} of the kubernetes_secret(_v1) resources with a
    literal name."""
    found = {}
    for (typ, _), body in typed_blocks(p, "resource").items():
        if typ not in ("kubernetes_secret_v1", "kubernetes_secret"):
            continue
        meta = (body.get("metadata") or [{}])[0]
        name = meta.get("name", "")
        if is_expression(name):
            continue
        data = dict(body.get("data") or {})
        data.update(body.get("string_data") or {})
        found[name] = (literal(p, meta.get("namespace")), data)
    return found


def check_terraform_secrets(p):
    """The Secrets Terraform creates are the template's (deploy/k8s/secrets.example.yaml):
    same names and namespace; every key a workload reads without `optional` is set, every
    key set is one the template or a workload names, and auth gets its signing key or the
    key that encrypts it."""
    problems = loaded(p)
    templates = {d["metadata"]["name"]: d for rel, d in p.k8s
                 if rel.endswith(".example.yaml") and d.get("kind") == "Secret"}
    if not templates:
        return problems + ["no Secret template to compare with"]
    mine = tf_secrets(p)
    refs, whole = secret_refs(p)
    for name, tmpl in sorted(templates.items()):
        if name not in mine:
            problems.append(f"Secret {name} (the template's) is not created")
            continue
        ns, data = mine[name]
        if ns != tmpl["metadata"].get("namespace"):
            problems.append(f"Secret {name}: namespace {ns!r}, the template's is {tmpl['metadata'].get('namespace')!r}")
        template_keys = set((tmpl.get("stringData") or {}) | (tmpl.get("data") or {}))
        required = {k for k, optional in (refs.get(name) or {}).items() if not optional}
        if name in whole:
            required |= template_keys
        allowed = template_keys | set(refs.get(name) or {})
        for k in sorted(required - set(data)):
            problems.append(f"Secret {name}: no {k} (read without optional)")
        for k in sorted(set(data) - allowed):
            problems.append(f"Secret {name}: {k} is neither in the template nor read by a workload")
        if any(k in template_keys for k in AUTH_KEYS) and not any(k in data for k in AUTH_KEYS):
            problems.append(f"Secret {name}: neither {' nor '.join(AUTH_KEYS)} (auth exits at start)")
    return problems


def check_terraform_replicas(p):
    """var.replicas (the HPAs' bounds) has a default entry for every service and every
    other workload with an autoscaler (the gateway), its validation names them all, the
    overlay patches each HPA from it, and local.services is the list of services."""
    problems = loaded(p)
    var = named_blocks(p, "variable").get("replicas")
    if not var:
        return problems + ["no variable replicas"]
    hpas = {d["metadata"]["name"] for d in rendered(p, "HorizontalPodAutoscaler")}
    want = set(SERVICES) | hpas
    default = set((var.get("default") or {}).keys())
    for w in sorted(want - default):
        problems.append(f"variable replicas: no default entry for {w}")
    for w in sorted(default - want):
        problems.append(f"variable replicas: {w} is no workload with an autoscaler")
    conditions = " ".join(v.get("condition", "") for v in var.get("validation") or [])
    for w in sorted(want):
        if f'"{w}"' not in conditions:
            problems.append(f"variable replicas: its validation does not require {w}")
    _, body = overlay(p)
    if not any(b.get("for_each") == "${var.replicas}" and
               ((b.get("content") or [{}])[0].get("target") or {}).get("kind") == "HorizontalPodAutoscaler"
               for b in dynamic_blocks(body, "patches")):
        problems.append("kustomization_overlay: no patches over var.replicas aimed at the HorizontalPodAutoscalers")
    services = tf_locals(p).get("services")
    if not isinstance(services, list) or set(services) != set(SERVICES):
        problems.append(f"local.services {services} != the services {sorted(SERVICES)}")
    return problems


def check_terraform_mongodb(p):
    """The operator's MongoDB replaces the base's: its members carry the labels the
    NetworkPolicy `mongo` admits the services to, it keeps the transaction lifetime of
    docker-compose.yml, and every STORE_URL names the service's own database and the
    replica set."""
    problems = loaded(p)
    manifest = next((b.get("manifest", "") for (typ, _), b in typed_blocks(p, "resource").items()
                     if typ == "kustomization_resource" and "MongoDBCommunity" in b.get("manifest", "")), None)
    if manifest is None:
        return problems + ["no kustomization_resource with the MongoDBCommunity"]
    policy = rendered(p, "NetworkPolicy", "mongo")
    selector = ((policy[0].get("spec") or {}).get("podSelector") or {}).get("matchLabels") if policy else None
    if not selector:
        problems.append("the overlay has no NetworkPolicy mongo with matchLabels")
    labels = re.search(r"template\s*=\s*\{\s*metadata\s*=\s*\{\s*labels\s*=\s*\{([^}]*)\}", manifest)
    if not labels:
        problems.append("MongoDBCommunity: no statefulSet template labels for its members")
    for k, v in (selector or {}).items():
        if not labels or not re.search(rf'"{re.escape(k)}"\s*=\s*"{re.escape(v)}"', labels.group(1)):
            problems.append(f"MongoDBCommunity: members lack the label {k}={v} (NetworkPolicy mongo)")
    m = re.search(r"transactionLifetimeLimitSeconds\s*=\s*(\d+)", manifest)
    compose = " ".join(str(a) for a in (((p.compose or {}).get("services") or {}).get("mongo") or {}).get("command") or [])
    cm = re.search(r"transactionLifetimeLimitSeconds=(\d+)", compose)
    if not m or not cm or m.group(1) != cm.group(1):
        problems.append(f"MongoDBCommunity: transactionLifetimeLimitSeconds {m and m.group(1)}, "
                        f"docker-compose.yml's {cm and cm.group(1)}")
    urls = str(tf_locals(p).get("store_urls", ""))
    for needle in ("/tizza_${s}?", "replicaSet=${local.mongodb_name}", "authSource=admin"):
        if needle not in urls:
            problems.append(f"local.store_urls: no {needle}")
    return problems


SECRET_ATTR = re.compile(r"(?i)^(?:.*_)?(password|passwd|pass|secret|secret_string|token|api_key|"
                         r"access_key|secret_key|signing_key|encryption_key|private_key)$")
CREDENTIALS_IN_URL = re.compile(r"://[^/\s:@]+:([^@\s/]+)@")
KEY_LIKE = re.compile(r"^(?:[A-Za-z0-9_-]{43}|AKIA[0-9A-Z]{16}|-----BEGIN .*)$")
SECRET_SOURCES = re.compile(r"random_password\.|random_id\.|random_bytes\.|tls_private_key\.|"
                            r"secret_string|kubernetes_secret(?:_v1)?\.[\w-]+\.data|local\.store_urls")


def check_terraform_no_hardcoded_secrets(p):
    """No secret value is written in deploy/terraform: secret-named attributes and Secret
    data are expressions, URLs carry no literal password, nothing looks like a key, secret
    variables have no default and are sensitive, outputs of secrets are sensitive."""
    problems = loaded(p)
    for rel, doc in sorted(tf(p)["files"].items()):
        for key, value in strings(doc):
            if key and SECRET_ATTR.match(key) and value and not is_expression(value):
                problems.append(f"{rel}: {key} is a literal value")
            m = CREDENTIALS_IN_URL.search(value)
            if m and not re.fullmatch(r"\$\{[^}]+\}", m.group(1)):
                problems.append(f"{rel}: a URL with a literal password ({key})")
            if KEY_LIKE.match(value):
                problems.append(f"{rel}: {key} looks like a key")
    for (typ, name), body in typed_blocks(p, "resource").items():
        if typ in ("kubernetes_secret_v1", "kubernetes_secret"):
            for k, v in {**(body.get("data") or {}), **(body.get("string_data") or {})}.items():
                if not is_expression(v) and not re.fullmatch(r"[a-z][a-z0-9-]*", str(v)):
                    problems.append(f"{typ}.{name}: {k} is a literal")
    for name, body in named_blocks(p, "variable").items():
        if SECRET_ATTR.match(name):
            if "default" in body:
                problems.append(f"variable {name}: a secret with a default")
            if body.get("sensitive") is not True:
                problems.append(f"variable {name}: a secret not marked sensitive")
    for name, body in named_blocks(p, "output").items():
        if SECRET_SOURCES.search(str(body.get("value", ""))) and body.get("sensitive") is not True:
            problems.append(f"output {name}: shows a secret without sensitive = true")
    return problems


def runbook_section(p):
    m = re.search(r"^## Terraform\b[^\n]*\n(.*?)(?=^## |\Z)", p.runbook or "", re.S | re.M)
    return m.group(1) if m else None


def check_terraform_outputs(p):
    """Every output the runbook reads (`terraform output NAME`) exists, and every output
    has a description."""
    problems = loaded(p)
    outputs = named_blocks(p, "output")
    text = runbook_section(p) or ""
    named = set(re.findall(r"terraform output(?:\s+-(?:raw|json))?\s+([a-z][a-z0-9_]*)", text))
    if not named:
        problems.append("deploy/README.md: the Terraform section reads no output")
    for name in sorted(named - set(outputs)):
        problems.append(f"deploy/README.md: `terraform output {name}`, no such output")
    for name, body in sorted(outputs.items()):
        if not body.get("description"):
            problems.append(f"output {name}: no description")
    return problems


def check_terraform_runbook(p):
    """deploy/README.md has a Terraform section: remote state set-up, init with
    -backend-config=backend.hcl, plan, apply, destroy, that the tests run no terraform, and
    a table of exactly the declared variables."""
    problems = loaded(p)
    text = runbook_section(p)
    if text is None:
        return problems + ["deploy/README.md: no \"## Terraform\" section"]
    for topic, rx in {"init": r"terraform init -backend-config=backend\.hcl", "plan": r"terraform plan",
                      "apply": r"terraform apply", "destroy": r"terraform destroy",
                      "state bucket": r"s3api create-bucket", "lock table": r"dynamodb create-table",
                      "no terraform in the tests": r"(?i)no (?:cloud|terraform)[^.]*tests"}.items():
        if not re.search(rx, text):
            problems.append(f"deploy/README.md, Terraform: nothing about {topic}")
    table = set(re.findall(r"^\| `([a-z][a-z0-9_]*)` \|", text, re.M))
    declared = set(named_blocks(p, "variable"))
    for name in sorted(declared - table):
        problems.append(f"deploy/README.md, Terraform: variable {name} not in the table")
    for name in sorted(table - declared):
        problems.append(f"deploy/README.md, Terraform: the table names {name}, no such variable")
    return problems


ALL = [check_terraform_files, check_terraform_variables, check_terraform_versions,
       check_terraform_backend, check_terraform_images, check_terraform_kustomize,
       check_terraform_secrets, check_terraform_replicas, check_terraform_mongodb,
       check_terraform_no_hardcoded_secrets, check_terraform_outputs, check_terraform_runbook]


# ------------------------------------------------------------------------ self-tests
# (name, check, mutate(project)): the mutated copy must make `check` report a problem
# (check_deploy.py runs them with its own). The helpers assert that what they edit is there.

def tf_file(p, name):
    return tf(p)["files"][f"{TF_DIR}/{name}"]


def block(p, name, kind, *path):
    """The body of a block in deploy/terraform/<name>: block(p, "app.tf", "resource",
    "kustomization_resource", "webhooks")."""
    node = tf_file(p, name)[kind]
    for part in path:
        node = node[part]
    return node[0] if isinstance(node, list) else node


def tf_local(p, name):
    for doc in tf(p)["files"].values():
        for b in doc.get("locals") or []:
            if name in b:
                return b
    raise AssertionError(f"no local {name}")


def reparse(p, name, old, new):
    """deploy/terraform/<name> with text replaced, parsed again (the parser's verdict)."""
    import tempfile
    rel = f"{TF_DIR}/{name}"
    text = tf(p)["texts"][rel]
    assert old in text, old
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text.replace(old, new))
        files, errors, problem = hcl2json(p.root, [path])
    assert not problem, problem
    t = tf(p)
    t["files"].pop(rel, None)
    if path in errors:
        t["errors"][rel] = errors[path]
    else:
        t["files"][rel] = files[path]


def secret_data(p, resource):
    return block(p, "secrets.tf", "resource", "kubernetes_secret_v1", resource)["data"]


def overlay_body(p):
    return block(p, "app.tf", "data", "kustomization_overlay", "tizza")


def edit(owner, key, old, new):
    assert old in owner[key], old
    owner[key] = owner[key].replace(old, new)


def edit_runbook(p, old, new):
    assert old in p.runbook, old
    p.runbook = p.runbook.replace(old, new)


def add_hpa(p, name):
    hpa = copy.deepcopy(rendered(p, "HorizontalPodAutoscaler", "likes")[0])
    hpa["metadata"]["name"] = name
    p.k8s.append((p.k8s[0][0], hpa))


def mongodb_manifest(p):
    return block(p, "mongodb.tf", "resource", "kustomization_resource", "mongodb")


SELFTESTS = [
    ("a .tf file that does not parse", check_terraform_files,
     lambda p: reparse(p, "variables.tf", 'variable "region" {', 'variable "region" {{')),
    ("state files not ignored", check_terraform_files,
     lambda p: edit(tf(p)["texts"], f"{TF_DIR}/.gitignore", "*.tfstate\n", "")),
    ("var.X used but not declared", check_terraform_variables,
     lambda p: tf_file(p, "outputs.tf")["output"].update(nope=[{"value": "${var.nope}", "description": "x"}])),
    ("a variable declared and never used", check_terraform_variables,
     lambda p: tf_file(p, "variables.tf")["variable"].update(
         unused=[{"type": "${string}", "description": "nothing reads it"}])),
    ("a variable without a description", check_terraform_variables,
     lambda p: block(p, "variables.tf", "variable", "region").pop("description")),
    ("no required_version", check_terraform_versions,
     lambda p: block(p, "versions.tf", "terraform").pop("required_version")),
    ("a provider without a version", check_terraform_versions,
     lambda p: block(p, "versions.tf", "terraform")["required_providers"][0]["random"].pop("version")),
    ("a provider used but not required", check_terraform_versions,
     lambda p: tf_file(p, "secrets.tf")["resource"].update(tls_private_key={"k": [{"algorithm": "ED25519"}]})),
    ("a registry module without a version", check_terraform_versions,
     lambda p: block(p, "network.tf", "module", "vpc").pop("version")),
    ("a local backend", check_terraform_backend,
     lambda p: block(p, "backend.tf", "terraform").update(backend={"local": [{}]})),
    ("the state bucket written in backend.tf", check_terraform_backend,
     lambda p: block(p, "backend.tf", "terraform")["backend"]["s3"][0].update(bucket="tizza-state")),
    ("backend.hcl.example without the lock table", check_terraform_backend,
     lambda p: tf(p)["backend_example"].pop("dynamodb_table")),
    ("local.images without tweets", check_terraform_images,
     lambda p: tf_local(p, "images")["images"].remove("tizza/tweets")),
    ("compose renames likes' image", check_terraform_images,
     lambda p: p.compose["services"]["likes"].update(image="tizza/likes-v2:latest")),
    ("the images keep their tag", check_terraform_images,
     lambda p: overlay_body(p)["dynamic"]["images"][0]["content"][0].update(new_tag="latest")),
    ("the overlay of another environment", check_terraform_kustomize,
     lambda p: overlay_body(p).update(resources=["${path.module}/../k8s/overlays/staging"])),
    ("the webhooks' priority set not applied", check_terraform_kustomize,
     lambda p: tf_file(p, "app.tf")["resource"]["kustomization_resource"].pop("webhooks")),
    ("leaving out a Job the overlay does not have", check_terraform_kustomize,
     lambda p: tf_local(p, "replaced_by_operator")["replaced_by_operator"][2].update(name="mongo-init")),
    ("patching an Ingress the overlay does not have", check_terraform_kustomize,
     lambda p: overlay_body(p)["patches"][0]["target"].update(name="tizza-web")),
    ("the overlay in another namespace", check_terraform_kustomize,
     lambda p: overlay_body(p).update(namespace="tizza-prod")),
    ("tizza-secrets without LIKES_STORE_URL", check_terraform_secrets,
     lambda p: secret_data(p, "tizza_secrets").pop("LIKES_STORE_URL")),
    ("a key nothing reads", check_terraform_secrets,
     lambda p: secret_data(p, "tizza_secrets").update(AUTH_SIGNING_KEY_FILE="${random_id.auth_kek.hex}")),
    ("the broker's Secret misnamed", check_terraform_secrets,
     lambda p: block(p, "secrets.tf", "resource", "kubernetes_secret_v1", "tizza_rabbitmq")["metadata"][0].update(
         name="rabbitmq")),
    ("auth without a signing key or its encryption key", check_terraform_secrets,
     lambda p: secret_data(p, "tizza_secrets").pop("AUTH_KEY_ENCRYPTION_KEY")),
    ("a Secret in another namespace", check_terraform_secrets,
     lambda p: block(p, "secrets.tf", "resource", "kubernetes_secret_v1", "tizza_secrets")["metadata"][0].update(
         namespace="default")),
    ("replicas without likes", check_terraform_replicas,
     lambda p: block(p, "variables.tf", "variable", "replicas")["default"].pop("likes")),
    ("a new autoscaled workload without replicas", check_terraform_replicas,
     lambda p: add_hpa(p, "reviews")),
    ("replicas' validation forgets the gateway", check_terraform_replicas,
     lambda p: edit(block(p, "variables.tf", "variable", "replicas")["validation"][0], "condition",
                    ', "gateway"]', "]")),
    ("local.services without tweets", check_terraform_replicas,
     lambda p: tf_local(p, "services")["services"].remove("tweets")),
    ("the HPAs not patched from var.replicas", check_terraform_replicas,
     lambda p: overlay_body(p)["dynamic"]["patches"][0].update(for_each="${{}}")),
    ("MongoDB members without the NetworkPolicy's label", check_terraform_mongodb,
     lambda p: edit(mongodb_manifest(p), "manifest", '"app.kubernetes.io/name"      = "mongo"',
                    '"app.kubernetes.io/name"      = "mongodb"')),
    ("MongoDB's default transaction lifetime", check_terraform_mongodb,
     lambda p: edit(mongodb_manifest(p), "manifest", "transactionLifetimeLimitSeconds = 5",
                    "transactionLifetimeLimitSeconds = 60")),
    ("a STORE_URL without authSource", check_terraform_mongodb,
     lambda p: edit(tf_local(p, "store_urls"), "store_urls", "&authSource=admin", "")),
    ("a literal broker password", check_terraform_no_hardcoded_secrets,
     lambda p: secret_data(p, "tizza_rabbitmq").update(RABBITMQ_DEFAULT_PASS="hunter2")),
    ("a literal password in AMQP_URL", check_terraform_no_hardcoded_secrets,
     lambda p: secret_data(p, "tizza_secrets").update(
         AMQP_URL="amqp://${local.rabbitmq_user}:hunter2@rabbitmq:5672/%2f")),
    ("a secret variable with a default", check_terraform_no_hardcoded_secrets,
     lambda p: tf_file(p, "variables.tf")["variable"].update(
         grafana_admin_password=[{"type": "${string}", "description": "x", "default": "admin"}])),
    ("an AWS access key in the provider", check_terraform_no_hardcoded_secrets,
     lambda p: tf_file(p, "providers.tf")["provider"]["aws"][0].update(
         access_key="${var.region}", profile="AKIAIOSFODNN7EXAMPLE")),
    ("the broker password as a plain output", check_terraform_no_hardcoded_secrets,
     lambda p: tf_file(p, "outputs.tf")["output"].update(
         rabbitmq_password=[{"value": "${random_password.rabbitmq.result}", "description": "x"}])),
    ("the runbook reads an output that does not exist", check_terraform_outputs,
     lambda p: edit_runbook(p, "terraform output -raw kubeconfig_command", "terraform output -raw kubeconfig")),
    ("an output without a description", check_terraform_outputs,
     lambda p: block(p, "outputs.tf", "output", "region").pop("description")),
    ("the runbook without destroy", check_terraform_runbook,
     lambda p: edit_runbook(p, "terraform destroy", "terraform remove")),
    ("a variable missing from the runbook's table", check_terraform_runbook,
     lambda p: edit_runbook(p, "| `mongodb_storage_size` |", "| mongodb_storage_size |")),
    ("the runbook's table names a removed variable", check_terraform_runbook,
     lambda p: tf_file(p, "variables.tf")["variable"].pop("tags")),
]
