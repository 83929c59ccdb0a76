"""check_deploy -- the static checks of the deployment files (tests/static/run.sh, make test).

docker-compose.yml and its offline override, the Dockerfiles and the scripts they ship,
.dockerignore, deploy/k8s, deploy/prometheus, deploy/grafana, the gateway's nginx files and
deploy/README.md are checked against each other and against the code, without building an
image or starting a container (tests/containers does that): see checks.py for the rules,
deploylib.py for where the facts come from. deploy/k8s is checked
as kustomize renders its production overlay, and every rendered object is validated against
the Kubernetes API schemas (k8s/validate.mjs; k8s/setup.sh installs the tools).

Two parts, both counted in the closing "N passed, M failed" line:
  1. every check in checks.ALL on the repository as it is (each must report no problem);
  2. self-tests: for each check (but check_files_load and check_live_binaries), copies of
     the snapshot with one thing broken (a container_name, a root USER, a wrong probe path,
     ...) must make that check report a problem -- so a check that cannot fail is caught here.
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
import terraform_checks  # noqa: E402  (deploy/terraform: its checks and self-tests)
from deploylib import (GATEWAY_DOCKERFILE, SERVICE_DOCKERFILE, Project,  # noqa: E402
                       context_files, dockerignore_patterns)
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


SERVICE_DF, GATEWAY_DF = SERVICE_DOCKERFILE, GATEWAY_DOCKERFILE
OFFLINE_MONGO = "deploy/docker/offline/mongo-double.Dockerfile"


def final(p, rel):
    return p.dockerfiles[rel][-1]


def stage(p, rel, name):
    return next(st for st in p.dockerfiles[rel] if st.name == name)


def replace_instruction(stage, keyword, new_arg):
    assert stage.all(keyword), keyword
    stage.instructions = [(kw, new_arg if kw == keyword else arg) for kw, arg in stage.instructions]


# The editing helpers assert that what they edit is there: a mutation that changes nothing
# fails as a crash that names it, instead of leaving the check to notice something else.

def edited(text, old, new):
    assert old in (text or ""), old
    return text.replace(old, new)


def edit_text(owner, key, old, new):
    """Replaces text in owner[key] (a dict of file texts) or in the attribute owner.key."""
    if isinstance(owner, dict):
        owner[key] = edited(owner[key], old, new)
    else:
        setattr(owner, key, edited(getattr(owner, key), old, new))


def edit_args(stage, keyword, old, new):
    """Replaces text in the arguments of a stage's `keyword` instructions (any, for None)."""
    def hit(kw):
        return keyword is None or kw == keyword
    assert any(old in arg for kw, arg in stage.instructions if hit(kw)), old
    stage.instructions = [(kw, arg.replace(old, new) if hit(kw) else arg) for kw, arg in stage.instructions]


def edit_rootfs(old, new):
    """The mutation: text replaced in the RUN instructions of service.Dockerfile's rootfs stage."""
    return lambda p: edit_args(stage(p, SERVICE_DF, "rootfs"), "RUN", old, new)


def drop_where(stages, pred):
    """Drops the instructions for which pred(keyword, argument) holds from a stage (or a list
    of stages); at least one."""
    dropped = 0
    for st in stages if isinstance(stages, list) else [stages]:
        kept = [i for i in st.instructions if not pred(*i)]
        dropped += len(st.instructions) - len(kept)
        st.instructions = kept
    assert dropped, "no instruction to drop"


def drop(stages, keyword, arg):
    drop_where(stages, lambda kw, a: (kw, a) == (keyword, arg))


def build_args(p, name):
    return services(p)[name]["build"]["args"]


def offline(p):
    return p.compose_offline["services"]


def with_dockerignore(p, text):
    p.patterns = dockerignore_patterns(text)
    p.context = context_files(p.root, p.patterns)


SELFTESTS = [
    ("a manifest's port changed, the files not regenerated", checks.check_generated_files_fresh,
     lambda p: p.manifests[-1].update(port=p.manifests[-1]["port"] + 100)),
    ("a service added to the list only", checks.check_generated_files_fresh,
     lambda p: p.manifests.append(dict(p.manifests[-1], name="reviews", port=8099,
                                       routes=["/api/v1/reviews"]))),
    ("a manifest port that is not the binary's", checks.check_manifest_ports,
     lambda p: p.manifests[0].update(port=8099)),
    ("no grafana in compose", checks.check_compose_services,
     lambda p: services(p).pop("grafana")),
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
    ("a README table without AMQP_PREFETCH", checks.check_config_documented,
     lambda p: p.config_table.discard("AMQP_PREFETCH")),
    ("a README row for a variable nothing reads", checks.check_config_documented,
     lambda p: p.config_table.add("PIZZA_THREADS")),
    ("a bind mount of a missing file", checks.check_compose_paths,
     lambda p: services(p)["prometheus"]["volumes"].append("./deploy/prometheus/nope.yml:/x:ro")),
    ("stop grace shorter than the drain", checks.check_compose_images_built,
     lambda p: services(p)["auth"].update(stop_grace_period="5s")),
    ("pizza built with SERVICE=likes", checks.check_compose_images_built,
     lambda p: build_args(p, "pizza").update(SERVICE="likes")),
    ("likes built with a PORT that is not its binary's", checks.check_compose_images_built,
     lambda p: build_args(p, "likes").update(PORT="8080")),
    ("tweets built from a per-service Dockerfile", checks.check_compose_images_built,
     lambda p: services(p)["tweets"]["build"].update(dockerfile="deploy/docker/tweets.Dockerfile")),
    ("service.Dockerfile declares no ARG PORT", checks.check_compose_images_built,
     lambda p: drop(p.dockerfiles[SERVICE_DF], "ARG", "PORT")),
    ("likes tagged as pizza's image", checks.check_compose_images_built,
     lambda p: services(p)["likes"].update(image="tizza/pizza:${TIZZA_TAG:-latest}")),
    ("a Dockerfile no compose file builds", checks.check_compose_images_built,
     lambda p: p.dockerfiles.update({"deploy/docker/auth.Dockerfile": p.dockerfiles[SERVICE_DF]})),
    ("the offline override names a missing Dockerfile (a path)", checks.check_compose_paths,
     lambda p: offline(p)["rabbitmq"]["build"].update(dockerfile="deploy/docker/offline/rabbit.Dockerfile")),
    ("the offline override replaces auth", checks.check_compose_offline,
     lambda p: offline(p).update(auth={"image": "tizza/offline-auth:latest"})),
    ("the offline override names a missing Dockerfile", checks.check_compose_offline,
     lambda p: offline(p)["prometheus"]["build"].update(dockerfile="deploy/docker/offline/prom.Dockerfile")),
    ("the offline mongo tagged as the real image", checks.check_compose_offline,
     lambda p: offline(p)["mongo"].update(image="mongo:7.0")),
    ("the offline mongo's health check runs what its image lacks", checks.check_compose_offline,
     lambda p: offline(p)["mongo"]["healthcheck"].update(test=["CMD", "/usr/local/bin/mongosh", "--eval", "1"])),
    ("the offline override redefines the networks", checks.check_compose_offline,
     lambda p: p.compose_offline.update(networks={"tizza": {"internal": True}})),
    ("mongo without a replica set", checks.check_compose_mongo_rabbitmq,
     lambda p: services(p)["mongo"].update(command=["mongod", "--bind_ip_all"])),
    ("runtime stage on debian:bookworm-slim", checks.check_service_dockerfile_stages,
     lambda p: setattr(final(p, SERVICE_DF), "image", "debian:bookworm-slim")),
    ("runtime stage installs packages", checks.check_service_dockerfile_stages,
     lambda p: final(p, SERVICE_DF).instructions.insert(0, ("RUN", "apt-get install -y libevent-2.1-7"))),
    ("runtime stage copies a binary from the build stage", checks.check_service_dockerfile_stages,
     lambda p: final(p, SERVICE_DF).instructions.insert(
         0, ("COPY", "--from=build /src/build/bin/tizza-auth /usr/local/bin/"))),
    ("build stage lacks libmongoc-dev", checks.check_service_dockerfile_stages,
     lambda p: edit_args(p.dockerfiles[SERVICE_DF][0], "RUN", "libmongoc-dev ", "")),
    ("build stage makes no plugin", checks.check_service_dockerfile_stages,
     lambda p: edit_args(p.dockerfiles[SERVICE_DF][0], "RUN", "services plugin", "services")),
    ("rootfs stage not FROM the build stage", checks.check_service_dockerfile_stages,
     lambda p: setattr(stage(p, SERVICE_DF, "rootfs"), "image", "debian:bookworm-slim")),
    ("rootfs.sh not given bash", checks.check_service_rootfs,
     edit_rootfs(" /bin/bash", "")),
    ("rootfs.sh not given the plugin", checks.check_service_rootfs,
     edit_rootfs("/usr/local/lib/tizza-store-mongo.so /usr/local", "/usr/local")),
    ("TIZZA_LIB_DIR not where the plugin is", checks.check_service_rootfs,
     lambda p: final(p, SERVICE_DF).instructions.append(("ENV", "TIZZA_LIB_DIR=/opt/lib"))),
    ("no tizza-service link", checks.check_service_rootfs,
     edit_rootfs('&& ln -s "tizza-$SERVICE" /usr/local/bin/tizza-service', "")),
    ("the link not copied into /rootfs", checks.check_service_rootfs,
     edit_rootfs("&& cp -P /usr/local/bin/tizza-service /rootfs/usr/local/bin/", "")),
    ("rootfs.sh assembles another directory", checks.check_service_rootfs,
     edit_rootfs("rootfs.sh /rootfs", "rootfs.sh /image")),
    ("no ARG SERVICE in the rootfs stage", checks.check_service_rootfs,
     lambda p: drop(stage(p, SERVICE_DF, "rootfs"), "ARG", "SERVICE")),
    ("shell-form ENTRYPOINT", checks.check_service_image_config,
     lambda p: replace_instruction(final(p, SERVICE_DF), "ENTRYPOINT", "/usr/local/bin/tizza-service serve")),
    ("ENTRYPOINT names auth's binary in the shared Dockerfile", checks.check_service_image_config,
     lambda p: replace_instruction(final(p, SERVICE_DF), "ENTRYPOINT", '["/usr/local/bin/tizza-auth"]')),
    ("CMD not a command of the binary", checks.check_service_image_config,
     lambda p: replace_instruction(final(p, SERVICE_DF), "CMD", '["run"]')),
    ("EXPOSE hard-coded 8001", checks.check_service_image_config,
     lambda p: replace_instruction(final(p, SERVICE_DF), "EXPOSE", "8001")),
    ("ENV PORT without ARG PORT in the runtime stage", checks.check_service_image_config,
     lambda p: drop(final(p, SERVICE_DF), "ARG", "PORT")),
    ("ENV of a variable no binary reads", checks.check_service_image_config,
     lambda p: final(p, SERVICE_DF).instructions.append(("ENV", "TIZZA_PLUGIN_DIR=/usr/local/lib"))),
    ("HEALTHCHECK on /ready", checks.check_service_image_config,
     lambda p: replace_instruction(final(p, SERVICE_DF), "HEALTHCHECK",
                                   'CMD ["/usr/local/bin/tizza-healthcheck", "/ready"]')),
    ("STOPSIGNAL SIGQUIT", checks.check_service_image_config,
     lambda p: replace_instruction(final(p, SERVICE_DF), "STOPSIGNAL", "SIGQUIT")),
    ("USER root", checks.check_images_non_root,
     lambda p: replace_instruction(final(p, SERVICE_DF), "USER", "root")),
    ("no USER in the gateway", checks.check_images_non_root,
     lambda p: drop_where(final(p, GATEWAY_DF), lambda kw, _: kw == "USER")),
    ("k8s uid differs from the image's", checks.check_images_non_root,
     lambda p: k8s(p, "Deployment", "pizza")["spec"]["template"]["spec"]["securityContext"].update(runAsUser=1000)),
    ("rootfs.sh's /etc/passwd without the image's uid", checks.check_images_non_root,
     lambda p: edit_text(p.scripts, "rootfs.sh", "tizza:x:10001:", "tizza:x:1000:")),
    ("ENV AUTH_SIGNING_KEY in an image", checks.check_no_secrets_in_images,
     lambda p: final(p, SERVICE_DF).instructions.append(("ENV", "AUTH_SIGNING_KEY=abc"))),
    ("ENV AMQP_URL with a password in an image", checks.check_no_secrets_in_images,
     lambda p: final(p, GATEWAY_DF).instructions.append(("ENV", "AMQP_URL=amqp://u:pw@h:5672/%2f"))),
    ("ARG with a password in an offline image", checks.check_no_secrets_in_images,
     lambda p: final(p, OFFLINE_MONGO).instructions.append(("ARG", "RABBITMQ_DEFAULT_PASS=tizza"))),
    (".dockerignore lets node_modules in", checks.check_no_secrets_in_images,
     lambda p: with_dockerignore(p, edited(p.dockerignore_text, "**/node_modules\n", ""))),
    (".dockerignore drops a header make needs", checks.check_build_context,
     lambda p: with_dockerignore(p, p.dockerignore_text + "libcommon/http.h\n")),
    (".dockerignore leaves out the offline mongo's double", checks.check_build_context,
     lambda p: with_dockerignore(p, edited(p.dockerignore_text, "!tests/mongo_double.py\n", ""))),
    ("build stage does not copy proto-docs", checks.check_build_context,
     lambda p: drop_where(p.dockerfiles[SERVICE_DF][0], lambda _, arg: "proto-docs" in arg)),
    ("gateway image without the upstreams template", checks.check_gateway_image,
     lambda p: drop_where(final(p, GATEWAY_DF), lambda _, arg: "upstreams" in arg)),
    ("the upstreams template copied into conf.d", checks.check_gateway_image,
     lambda p: edit_args(final(p, GATEWAY_DF), None, "/etc/nginx/upstreams.template.conf",
                         "/etc/nginx/conf.d/00-upstreams.conf")),
    ("gateway ENTRYPOINT nginx itself", checks.check_gateway_image,
     lambda p: replace_instruction(final(p, GATEWAY_DF), "ENTRYPOINT", '["nginx", "-g", "daemon off;"]')),
    ("the gateway's main config without the rendered upstreams", checks.check_gateway_image,
     lambda p: edit_text(p, "gateway_main", "include /tmp/upstreams.conf;", "")),
    ("the entrypoint renders outside /tmp", checks.check_gateway_image,
     lambda p: edit_text(p.scripts, "gateway-entrypoint.sh", "out=/tmp/upstreams.conf",
                         "out=/etc/nginx/upstreams.conf")),
    ("a temp path nginx cannot create", checks.check_gateway_image,
     lambda p: edit_text(p, "gateway_main", "/tmp/proxy_temp", "/tmp/nginx/proxy")),
    ("an upstream on the wrong port", checks.check_gateway_upstreams,
     lambda p: edit_text(p.nginx, "upstreams.compose.conf", "likes:8003", "likes:8004")),
    ("a gateway config nginx rejects", checks.check_gateway_nginx_config,
     lambda p: edit_text(p.nginx, "gateway.conf", "proxy_read_timeout 30s;", "proxy_read_timeout thirty;")),
    ("an upstreams template nginx rejects once rendered", checks.check_gateway_nginx_config,
     lambda p: edit_text(p.nginx, "upstreams.compose.conf", "keepalive 16;", "keepalive sixteen;")),
    ("the gateway's main config without conf.d", checks.check_gateway_nginx_config,
     lambda p: edit_text(p, "gateway_main", "include /etc/nginx/conf.d/*.conf;", "")),
    ("the gateway's main config without the rendered upstreams (nginx -t)", checks.check_gateway_nginx_config,
     lambda p: edit_text(p, "gateway_main", "include /tmp/upstreams.conf;", "")),
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
    ("no Secret template at all", checks.check_k8s_secrets_are_templates,
     lambda p: setattr(p, "k8s", [(rel, d) for rel, d in p.k8s if d.get("kind") != "Secret"])),
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
     lambda p: edit_text(p, "runbook", "mongodump", "dump")),
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

    for check in checks.ALL + terraform_checks.ALL + [check_promql_with_promtool]:
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

    for name, check, mutate in SELFTESTS + terraform_checks.SELFTESTS:
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
