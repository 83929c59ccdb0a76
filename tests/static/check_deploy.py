#!/usr/bin/python3
"""check_deploy -- the static checks of the deployment files (tests/static/run.sh, make test).

No Docker engine or cluster runs on the build machine, so docker-compose.yml, the
Dockerfiles, .dockerignore, deploy/k8s, deploy/prometheus, deploy/grafana, the gateway's
nginx files and deploy/README.md are checked against each other and against the code: see
checks.py for the rules, deploylib.py for where the facts come from. deploy/k8s is checked
as kustomize renders its production overlay, and every rendered object is validated against
the Kubernetes API schemas (k8s/validate.mjs; k8s/setup.sh installs the tools).

Two parts, both counted in the closing "N passed, M failed" line:
  1. every check in checks.ALL on the repository as it is (each must report no problem);
  2. self-tests: for a sample of rules, a copy of the snapshot with one thing broken (a
     container_name, a root USER, a wrong probe path, ...) must make that check report a
     problem -- so a check that cannot fail is caught here.
A check that needs a tool this machine lacks (promtool) is reported as skipped.

Usage: check_deploy.py [-v] [-k SUBSTRING]   (-v prints every problem of the self-tests,
-k runs only the checks and self-tests whose name contains SUBSTRING). """

import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import yaml  # noqa: E402

import checks  # noqa: E402
import emulate  # noqa: E402
from deploylib import Project, dockerignore_patterns, context_files  # noqa: E402
from checks import dashboard_exprs  # noqa: E402


# ------------------------------------------------------------------------ optional tools

def check_promql_with_promtool(p):
    """If promtool is installed: prometheus.yml is a valid config and every dashboard query
    is valid PromQL (as recording rules)."""
    tool = shutil.which("promtool")
    if not tool:
        return None
    problems = []
    r = subprocess.run([tool, "check", "config", "--syntax-only",
                        os.path.join(p.root, "deploy/prometheus/prometheus.yml")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        problems.append(f"promtool check config: {r.stdout}{r.stderr}")
    rules = [{"record": f"tizza:dashboard_query_{i}",
              "expr": expr.replace("$__rate_interval", "1m").replace("$service", "auth")}
             for i, (_, _, expr) in enumerate(dashboard_exprs(p))]
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)
        f.flush()
        r = subprocess.run([tool, "check", "rules", f.name], capture_output=True, text=True)
        if r.returncode != 0:
            problems.append(f"promtool check rules (dashboard queries): {r.stdout}{r.stderr}")
    return problems


# ------------------------------------------------------------------------ self-tests
# Each: (name, check, mutate(project)). The mutated copy must make `check` report a problem.

def services(p):
    return p.compose["services"]


def k8s(p, kind, name):
    return p.k8s_doc(kind, name)


def container(p, name):
    return k8s(p, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]


def kustomization(p, directory):
    """The kustomization document of deploy/k8s/<directory> in the snapshot."""
    return p.k8s_sources[f"deploy/k8s/{directory}/kustomization.yaml"][0]


def final(p, name):
    return p.dockerfiles[name][-1]


def replace_instruction(stage, keyword, new_arg):
    stage.instructions = [(kw, new_arg if kw == keyword else arg) for kw, arg in stage.instructions]


def with_dockerignore(p, text):
    p.patterns = dockerignore_patterns(text)
    p.context = context_files(p.root, p.patterns)


SELFTESTS = [
    ("container_name on likes breaks --scale", checks.check_compose_scalable,
     lambda p: services(p)["likes"].update(container_name="likes")),
    ("a host port on pizza", checks.check_compose_ports,
     lambda p: services(p)["pizza"].update(ports=["8002:8002"])),
    ("grafana published on every interface", checks.check_compose_ports,
     lambda p: services(p)["grafana"].update(ports=["3000:3000"])),
    ("depends_on as a list (no condition)", checks.check_compose_health_and_order,
     lambda p: services(p)["tweets"].update(depends_on=["mongo", "rabbitmq"])),
    ("waiting for a service without a health check", checks.check_compose_health_and_order,
     lambda p: services(p)["mongo"].pop("healthcheck")),
    ("a health check on /healthz", checks.check_compose_healthcheck_paths,
     lambda p: services(p)["pizza"].update(
         healthcheck={"test": ["CMD", "/usr/local/bin/tizza-healthcheck", "/healthz"]})),
    ("an unknown variable on pizza", checks.check_compose_env,
     lambda p: services(p)["pizza"]["environment"].update(PIZZA_THREADS="4")),
    ("likes' PIZZA_URL set on auth", checks.check_compose_env,
     lambda p: services(p)["auth"]["environment"].update(PIZZA_URL="http://pizza:8002")),
    ("PORT not the binary's", checks.check_compose_env,
     lambda p: services(p)["tweets"]["environment"].update(PORT="8005")),
    ("STORE_URL without replicaSet", checks.check_compose_env,
     lambda p: services(p)["likes"]["environment"].update(STORE_URL="mongodb://mongo:27017/tizza_likes")),
    ("two services on one database", checks.check_compose_env,
     lambda p: services(p)["likes"]["environment"].update(
         STORE_URL="mongodb://mongo:27017/tizza_pizza?replicaSet=rs0")),
    ("AUTH_URL on the wrong port", checks.check_compose_env,
     lambda p: services(p)["likes"]["environment"].update(AUTH_URL="http://auth:8002")),
    ("a bind mount of a missing file", checks.check_compose_paths,
     lambda p: services(p)["prometheus"]["volumes"].append("./deploy/prometheus/nope.yml:/x:ro")),
    ("stop grace shorter than the drain", checks.check_compose_images_built,
     lambda p: services(p)["auth"].update(stop_grace_period="5s")),
    ("mongo without a replica set", checks.check_compose_mongo_rabbitmq,
     lambda p: services(p)["mongo"].update(command=["mongod", "--bind_ip_all"])),
    ("runtime stage installs a -dev package", checks.check_dockerfile_stages,
     lambda p: final(p, "auth").instructions.insert(0, ("RUN", "apt-get install -y libcurl4-openssl-dev"))),
    ("runtime stage on full debian", checks.check_dockerfile_stages,
     lambda p: setattr(final(p, "likes"), "image", "debian:bookworm")),
    ("runtime stage lacks librabbitmq4", checks.check_dockerfile_runtime_libraries,
     lambda p: final(p, "tweets").instructions.__setitem__(0, ("RUN", "apt-get install -y libevent-2.1-7"))),
    ("auth image installs libcurl4, which tizza-auth does not load", checks.check_dockerfile_runtime_libraries,
     lambda p: final(p, "auth").instructions.insert(0, ("RUN", "apt-get install -y libcurl4"))),
    ("EXPOSE of another port", checks.check_dockerfile_layout,
     lambda p: replace_instruction(final(p, "pizza"), "EXPOSE", "8080")),
    ("HEALTHCHECK on /ready", checks.check_dockerfile_layout,
     lambda p: replace_instruction(final(p, "likes"), "HEALTHCHECK",
                                   'CMD ["/usr/local/bin/tizza-healthcheck", "/ready"]')),
    ("shell-form ENTRYPOINT", checks.check_dockerfile_layout,
     lambda p: replace_instruction(final(p, "auth"), "ENTRYPOINT", "/usr/local/bin/tizza-auth serve")),
    ("plugin not where TIZZA_LIB_DIR points", checks.check_dockerfile_layout,
     lambda p: final(p, "tweets").instructions.append(("ENV", "TIZZA_LIB_DIR=/opt/lib"))),
    ("USER root", checks.check_images_non_root,
     lambda p: replace_instruction(final(p, "auth"), "USER", "root")),
    ("no USER in the gateway", checks.check_images_non_root,
     lambda p: setattr(final(p, "gateway"), "instructions",
                       [i for i in final(p, "gateway").instructions if i[0] != "USER"])),
    ("k8s uid differs from the image's", checks.check_images_non_root,
     lambda p: k8s(p, "Deployment", "pizza")["spec"]["template"]["spec"]["securityContext"].update(runAsUser=1000)),
    ("ENV AUTH_SIGNING_KEY in an image", checks.check_no_secrets_in_images,
     lambda p: final(p, "auth").instructions.append(("ENV", "AUTH_SIGNING_KEY=abc"))),
    ("ENV AMQP_URL with a password in an image", checks.check_no_secrets_in_images,
     lambda p: final(p, "likes").instructions.append(("ENV", "AMQP_URL=amqp://u:pw@h:5672/%2f"))),
    (".dockerignore lets node_modules in", checks.check_no_secrets_in_images,
     lambda p: with_dockerignore(p, p.dockerignore_text.replace("**/node_modules\n", ""))),
    (".dockerignore drops a header make needs", checks.check_build_context,
     lambda p: with_dockerignore(p, p.dockerignore_text + "libcommon/http.h\n")),
    ("build stage does not copy proto-docs", checks.check_build_context,
     lambda p: setattr(p.dockerfiles["likes"][0], "instructions",
                       [i for i in p.dockerfiles["likes"][0].instructions if "proto-docs" not in i[1]])),
    ("gateway image without the upstreams", checks.check_gateway_image,
     lambda p: setattr(final(p, "gateway"), "instructions",
                       [i for i in final(p, "gateway").instructions if "upstreams" not in i[1]])),
    ("an upstream on the wrong port", checks.check_gateway_upstreams,
     lambda p: p.nginx.update({"upstreams.compose.conf": p.nginx["upstreams.compose.conf"].replace(
         "likes:8003", "likes:8004")})),
    ("a gateway config nginx rejects", checks.check_gateway_nginx_config,
     lambda p: p.nginx.update({"gateway.conf": p.nginx["gateway.conf"].replace(
         "proxy_read_timeout 30s;", "proxy_read_timeout thirty;")})),
    ("the gateway's main config without conf.d", checks.check_gateway_nginx_config,
     lambda p: setattr(p, "gateway_main", p.gateway_main.replace("include /etc/nginx/conf.d/*.conf;", ""))),
    ("a temp path nginx cannot create", checks.check_gateway_image,
     lambda p: setattr(p, "gateway_main", p.gateway_main.replace("/tmp/proxy_temp", "/tmp/nginx/proxy"))),
    ("the plugin copied where TIZZA_LIB_DIR does not point (emulated image)", emulate.check_images_build_and_run,
     lambda p: [st.instructions.append(("ENV", "TIZZA_LIB_DIR=/usr/lib/tizza"))
                for st in [final(p, "auth")]]),
    ("gateway temp files outside /tmp (emulated image)", emulate.check_gateway_runs_unprivileged,
     lambda p: setattr(p, "gateway_main", p.gateway_main.replace("proxy_temp_path /tmp/proxy_temp",
                                                                 "proxy_temp_path /var/cache/proxy_temp"))),
    ("the base's kustomization forgets a manifest", checks.check_k8s_manifests,
     lambda p: kustomization(p, "base")["resources"].remove("gateway.yaml")),
    ("the production overlay forgets a service", checks.check_k8s_manifests,
     lambda p: kustomization(p, "overlays/production")["resources"].remove("../../services/likes")),
    ("a service names a patch file that does not exist", checks.check_k8s_manifests,
     lambda p: kustomization(p, "services/auth")["patches"][0].update(path="patches.yaml")),
    ("the overlay applies the Secret template", checks.check_k8s_manifests,
     lambda p: kustomization(p, "base")["resources"].append("../secrets.example.yaml")),
    ("a Deployment outside the namespace", checks.check_k8s_manifests,
     lambda p: k8s(p, "Deployment", "tweets")["metadata"].pop("namespace")),
    ("containerPort as a string (API schema)", checks.check_k8s_api_schemas,
     lambda p: container(p, "likes")["ports"][0].update(containerPort="8003")),
    ("a misspelt readinessProbe (API schema: unknown field)", checks.check_k8s_api_schemas,
     lambda p: container(p, "pizza").update(readinesProbe=container(p, "pizza").pop("readinessProbe"))),
    ("an HPA without maxReplicas (API schema)", checks.check_k8s_api_schemas,
     lambda p: k8s(p, "HorizontalPodAutoscaler", "auth")["spec"].pop("maxReplicas")),
    ("a Secret template with a misspelt stringData (API schema)", checks.check_k8s_api_schemas,
     lambda p: k8s(p, "Secret", "tizza-rabbitmq").update(
         stringdata=k8s(p, "Secret", "tizza-rabbitmq").pop("stringData"))),
    ("readiness on /readyz", checks.check_k8s_workloads,
     lambda p: container(p, "likes")["readinessProbe"]["httpGet"].update(path="/readyz")),
    ("liveness on the wrong port", checks.check_k8s_workloads,
     lambda p: container(p, "auth")["livenessProbe"]["httpGet"].update(port=8080)),
    ("no memory limit", checks.check_k8s_workloads,
     lambda p: container(p, "pizza")["resources"].pop("limits")),
    ("grace period shorter than preStop + drain", checks.check_k8s_workloads,
     lambda p: k8s(p, "Deployment", "tweets")["spec"]["template"]["spec"].update(terminationGracePeriodSeconds=12)),
    ("HPA aimed at a missing Deployment", checks.check_k8s_workloads,
     lambda p: k8s(p, "HorizontalPodAutoscaler", "likes")["spec"]["scaleTargetRef"].update(name="like")),
    ("PDB selecting nothing", checks.check_k8s_workloads,
     lambda p: k8s(p, "PodDisruptionBudget", "auth")["spec"]["selector"]["matchLabels"].update(
         {"app.kubernetes.io/name": "authz"})),
    ("Service on another port", checks.check_k8s_workloads,
     lambda p: k8s(p, "Service", "pizza")["spec"]["ports"][0].update(port=80)),
    ("container allowed to escalate", checks.check_k8s_security,
     lambda p: container(p, "likes")["securityContext"].update(allowPrivilegeEscalation=True)),
    ("a secretKeyRef to a missing key", checks.check_k8s_config,
     lambda p: container(p, "tweets")["env"][0]["valueFrom"]["secretKeyRef"].update(key="NOPE")),
    ("an unknown variable in a ConfigMap", checks.check_k8s_config,
     lambda p: k8s(p, "ConfigMap", "tizza-likes")["data"].update(LIKES_CACHE="1")),
    ("AMQP_URL in a ConfigMap", checks.check_k8s_config,
     lambda p: k8s(p, "ConfigMap", "tizza-common")["data"].update(AMQP_URL="amqp://a:b@rabbitmq:5672/%2f")),
    ("a real-looking password in the Secret template", checks.check_k8s_secrets_are_templates,
     lambda p: k8s(p, "Secret", "tizza-rabbitmq")["stringData"].update(RABBITMQ_DEFAULT_PASS="hunter2")),
    ("mongo without persistent storage", checks.check_k8s_data_stores,
     lambda p: k8s(p, "StatefulSet", "mongo")["spec"].pop("volumeClaimTemplates")),
    ("Prometheus scraping one replica only", checks.check_prometheus,
     lambda p: p.prometheus["scrape_configs"][1].update(
         dns_sd_configs=None, static_configs=[{"targets": ["pizza:8002"]}])),
    ("Prometheus on the wrong port", checks.check_prometheus,
     lambda p: p.prometheus["scrape_configs"][2]["dns_sd_configs"][0].update(port=8004)),
    ("a dashboard query on a metric nobody exports", checks.check_grafana,
     lambda p: next(iter(p.dashboards.values()))["panels"][1]["targets"][0].update(
         expr="sum(up) + sum(tizza_requests_total)")),
    ("a dashboard without the DLQ panel", checks.check_grafana,
     lambda p: [t.update(expr=t["expr"].replace("dlq", "xyz"))
                for panel in next(iter(p.dashboards.values()))["panels"] for t in panel.get("targets", [])]),
    ("a runbook naming a missing file", checks.check_runbook,
     lambda p: setattr(p, "runbook", p.runbook + "\nsee `deploy/k8s/missing.yaml`\n")),
    ("a runbook without backups", checks.check_runbook,
     lambda p: setattr(p, "runbook", p.runbook.replace("mongodump", "dump"))),
]


# ------------------------------------------------------------------------ runner

def main(argv):
    verbose = "-v" in argv
    only = argv[argv.index("-k") + 1] if "-k" in argv else ""
    t0 = time.monotonic()
    project = Project.load(ROOT)
    passed = failed = skipped = 0
    print(f"loaded in {time.monotonic() - t0:.1f} s; build context "
          f"{len(project.context)} files, {sum(project.context.values()) // 1024} KiB")

    for check in checks.ALL + [emulate.check_images_build_and_run, emulate.check_gateway_runs_unprivileged,
                              check_promql_with_promtool]:
        if only not in check.__name__:
            continue
        t = time.monotonic()
        try:
            problems = check(project)
        except Exception as e:  # a crash is a failure with the reason, not a traceback wall
            problems = [f"crashed: {type(e).__name__}: {e}"]
        doc = (check.__doc__ or "").strip().split("\n")[0]
        if problems is None:
            skipped += 1
            print(f"skip {check.__name__} (tool not installed)")
        elif problems:
            failed += 1
            print(f"FAIL {check.__name__}: {doc}")
            for prob in problems:
                print(f"       - {prob}")
        else:
            passed += 1
            print(f"ok   {check.__name__} ({time.monotonic() - t:.1f} s)")

    for name, check, mutate in SELFTESTS:
        if only and only not in name and only not in check.__name__:
            continue
        copy = project.copy()
        try:
            mutate(copy)
            problems = check(copy)
        except Exception as e:
            problems = None
            err = f"{type(e).__name__}: {e}"
        if problems:
            passed += 1
            print(f"ok   selftest: {name} -> {check.__name__} notices")
            if verbose:
                for prob in problems:
                    print(f"       - {prob}")
        else:
            failed += 1
            why = "crashed: " + err if problems is None else "reported nothing"
            print(f"FAIL selftest: {name}: {check.__name__} {why}")

    extra = f" ({skipped} skipped)" if skipped else ""
    print(f"\nstatic: {passed} passed, {failed} failed{extra} in {time.monotonic() - t0:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
