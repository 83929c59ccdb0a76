"""tools/new_service.py NAME -- `make new-service NAME=reviews`: a new service, wired.

Writes, from the templates in tools/scaffold/ (@name@, @NAME@ and @port@ filled in):
  services/NAME/main.c, NAME.h, NAME.c (the resource /api/v1/NAME: list, get, create,
  delete), events.c (its user.deleted consumer), service.yaml (the next free port, its
  route, calls auth, erases the user's entries);
  proto-docs/NAME.openapi.yaml; tests/integration/test_NAME.py;
(the C formatted with clang-format when it is installed), then what tools/gen.py writes
from the new list of services: its place in the gateway,
compose, Prometheus, deploy/k8s and the events document (its queue NAME.user-deleted, its
user.erased), which every binary embeds: auth then counts it in each erasure.

NAME is lowercase letters (2 to 20), not a service, not the name of another container of
the stack, and not one that would make a variable of the system (NAME_URL, NAME_PORT, ...).
A refused name changes nothing: exit status 2 and one line saying why.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

SCAFFOLD = os.path.join(gen.REPO, "tools", "scaffold")
# the other containers and words that would clash as <NAME>_URL/_PORT/_STORE_URL variables
RESERVED = {"web", "gateway", "mongo", "rabbitmq", "prometheus", "grafana", "store", "amqp",
            "public", "http", "log", "tizza", "libcommon", "service", "services", "api"}


def files(name):
    """{path relative to the repository: template file}."""
    return {
        "services/%s/main.c" % name: "main.c.in",
        "services/%s/%s.h" % (name, name): "header.h.in",
        "services/%s/%s.c" % (name, name): "resource.c.in",
        "services/%s/events.c" % name: "events.c.in",
        "services/%s/service.yaml" % name: "service.yaml.in",
        "proto-docs/%s.openapi.yaml" % name: "openapi.yaml.in",
        "tests/integration/test_%s.py" % name: "test.py.in",
    }


def refusal(name, repo=gen.REPO):
    """Why name cannot be a new service, or None."""
    if not re.fullmatch(r"[a-z]{2,20}", name or ""):
        return "NAME must be 2 to 20 lowercase letters, not %r" % name
    if name in RESERVED:
        return "%r is taken by the stack or its variables" % name
    for rel in files(name):
        if os.path.exists(os.path.join(repo, rel)):
            return "%s exists: %r is already a service" % (rel, name)
    if os.path.exists(os.path.join(repo, "services", name)):
        return "services/%s exists" % name
    return None


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    name = argv[1]
    why = refusal(name)
    services = None
    if not why:
        try:
            services = gen.load_services()
        except gen.Bad as e:
            why = "the current list of services is broken: %s" % e
    if why:
        print("new-service: %s; nothing changed" % why, file=sys.stderr)
        return 2
    port = max(s["port"] for s in services) + 1
    values = {"@NAME@": name.upper(), "@name@": name, "@port@": str(port)}
    texts = {}
    for rel, template in files(name).items():
        with open(os.path.join(SCAFFOLD, template)) as f:
            text = f.read()
        for k, v in values.items():
            text = text.replace(k, v)
        texts[rel] = text
    written = []
    try:
        for rel, text in texts.items():
            path = os.path.join(gen.REPO, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "x") as f:
                f.write(text)
            written.append(path)
        results = gen.generate()
    except (OSError, gen.Bad) as e:  # leave nothing half done
        for path in written:
            os.unlink(path)
        if os.path.isdir(os.path.join(gen.REPO, "services", name)):
            os.rmdir(os.path.join(gen.REPO, "services", name))
        print("new-service: %s; nothing changed" % e, file=sys.stderr)
        return 2
    # the templates' lines are formatted for a name of some length: format them for this one
    sources = [os.path.join(gen.REPO, rel) for rel in texts if rel.endswith((".c", ".h"))]
    if shutil.which("clang-format"):
        subprocess.run(["clang-format", "-i"] + sources, cwd=gen.REPO, check=False)
    for rel, (old, new) in results.items():
        if old != new:
            os.makedirs(os.path.dirname(os.path.join(gen.REPO, rel)), exist_ok=True)
            with open(os.path.join(gen.REPO, rel), "w") as f:
                f.write(new)
            written.append(rel)
    for p in written:
        print("wrote %s" % os.path.relpath(p, gen.REPO) if os.path.isabs(p) else "wrote " + p)
    print("new-service: %s on port %d; `make` builds tizza-%s, `make run` and `make test` "
          "include it" % (name, port, name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
