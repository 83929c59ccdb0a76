"""emulate -- the service images built and started without Docker.

No Docker engine runs here, so this does what `docker build` and `docker run` would do with
each service's Dockerfile, as far as the host allows:

  build    a temp directory receives exactly what the build stage COPYs, taken from the
           build context after .dockerignore; the stage's last RUN (make + strip) runs
           there with /bin/sh -- the same command text, on this Debian 12 host, which is
           the build stage's debian:bookworm with the same -dev packages;
  layout   the runtime stage's COPY --from=build and COPY lines place the results under a
           fake root (so /usr/local/bin/tizza-x becomes <root>/usr/local/bin/tizza-x);
  run      the entrypoint starts with the image's ENV (PORT moved to a free port,
           TIZZA_LIB_DIR moved under the fake root; auth also gets the
           AUTH_KEY_ENCRYPTION_KEY compose passes it), in its WORKDIR, as `serve`, against a
           MongoDB URL (tests/mongo_double.py, replica set rs0) -- so the stripped binary
           must dlopen the stripped plugin from TIZZA_LIB_DIR and reach the store;
  probe    the image's HEALTHCHECK command (the shipped tizza-healthcheck) must exit 0, and
           /ready must get past the store (503 naming only the broker, which is absent);
  stop     SIGTERM (the image's STOPSIGNAL) -> exit 0.

What it cannot check: the apt-get lines (check_dockerfile_runtime_libraries compares them
with readelf), USER (check_images_non_root), and the images' base layers. """

import base64
import os
import shutil
import signal
import subprocess
import tempfile
import time

from checks import final_stage, free_port, http_get, image_env, stop_procs
from deploylib import SERVICES, copy_parts, exec_form

PY = "/usr/bin/python3"


def _copy_into(p, srcs, dst, base):
    """COPY srcs dst, from the build context (p.context) into base/dst."""
    for src in srcs:
        src = src.rstrip("/")
        files = [f for f in p.context if f == src or f.startswith(src + "/")]
        if not files:
            raise RuntimeError(f"COPY {src}: nothing in the build context")
        for f in files:
            if f == src:  # a file: dst is the file, or a directory when it ends with /
                target = os.path.join(dst, os.path.basename(f)) if dst.endswith("/") else dst
            else:
                target = os.path.join(dst, f[len(src) + 1:])
            target = os.path.join(base, target.lstrip("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(os.path.join(p.root, f), target)


def start_double(tmp):
    out = open(os.path.join(tmp, "double.out"), "w+")
    proc = subprocess.Popen([PY, os.path.join(os.path.dirname(__file__), "../mongo_double.py"),
                             "--port", "0"], stdout=out, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        out.seek(0)
        line = out.readline()
        if line.startswith("PORT "):
            return proc, int(line.split()[1])
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise RuntimeError("tests/mongo_double.py did not start")


def emulate(p, name, tmp, mongo_port, auth_port):
    """Builds, lays out, runs and probes one service image; returns (problems, proc, port)."""
    rel = p.dockerfile_paths[name]
    stages = p.dockerfiles.get(name) or []
    build, run = stages[0], final_stage(p, name)
    work = os.path.join(tmp, f"{name}-build")
    workdir = "/"
    for kw, arg in build.instructions:  # the build stage, instruction by instruction
        if kw == "WORKDIR":
            workdir = arg
        elif kw == "COPY":
            flags, srcs, dst = copy_parts(arg)
            _copy_into(p, srcs, os.path.join(workdir, dst), work)
    cmd = build.all("RUN")[-1]
    r = subprocess.run(["/bin/sh", "-c", cmd], cwd=os.path.join(work, workdir.lstrip("/")),
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        return [f"{rel}: build RUN failed: {r.stderr[-600:]}"], None, None

    root = os.path.join(tmp, f"{name}-root")
    for kw, arg in run.instructions:  # the runtime stage's files
        if kw != "COPY":
            continue
        flags, srcs, dst = copy_parts(arg)
        if flags.get("from") == build.name:
            for src in srcs:
                target = os.path.join(root, dst.lstrip("/"))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copy2(os.path.join(work, src.lstrip("/")), target)
        else:
            _copy_into(p, srcs, dst, root)
        if flags.get("chmod"):
            os.chmod(os.path.join(root, dst.lstrip("/")), int(flags["chmod"], 8))

    env = image_env(run)
    port = free_port()
    env.update(PORT=str(port), HOST="127.0.0.1", LOG_LEVEL="warn",
               TIZZA_LIB_DIR=os.path.join(root, env.get("TIZZA_LIB_DIR", "/nonexistent").lstrip("/")),
               STORE_URL=f"mongodb://127.0.0.1:{mongo_port}/tizza_{name}?replicaSet=rs0"
                         "&serverSelectionTimeoutMS=5000",
               AMQP_URL=f"amqp://guest:guest@127.0.0.1:{free_port()}/%2f",
               PATH="/usr/bin:/bin")
    if name != "auth":
        env.update(AUTH_URL=f"http://127.0.0.1:{auth_port}", AUTH_WAIT_MS="10000")
    else:  # what docker-compose.yml and the k8s Secret give it (deploy/README.md)
        env.update(AUTH_KEY_ENCRYPTION_KEY=base64.urlsafe_b64encode(os.urandom(32)).rstrip(
            b"=").decode())
    entry = exec_form(run.last("ENTRYPOINT") or "") or []
    args = exec_form(run.last("CMD") or "") or []
    wd = os.path.join(root, (run.last("WORKDIR") or "/").lstrip("/"))
    os.makedirs(wd, exist_ok=True)
    if not entry:
        return [f"{rel}: no exec-form ENTRYPOINT"], None, None
    log = open(os.path.join(tmp, f"{name}.log"), "wb")
    proc = subprocess.Popen([os.path.join(root, entry[0].lstrip("/"))] + entry[1:] + args,
                            cwd=wd, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    problems = []
    hc = exec_form((run.last("HEALTHCHECK") or "CMD []").split("CMD", 1)[1]) or []
    hc_cmd = [os.path.join(root, hc[0].lstrip("/"))] + hc[1:] if hc else []
    deadline = time.monotonic() + 20
    while True:
        ok = hc_cmd and subprocess.run(hc_cmd, env=env, capture_output=True).returncode == 0
        if ok:
            break
        if proc.poll() is not None or time.monotonic() > deadline:
            log.flush()
            tail = open(os.path.join(tmp, f"{name}.log"), errors="replace").read()[-400:]
            problems.append(f"{rel}: the HEALTHCHECK never passed (exit {proc.poll()}): {tail}")
            return problems, proc, port
        time.sleep(0.1)
    status, body = http_get(f"http://127.0.0.1:{port}/ready", timeout=10)
    if status != 503 or "broker" not in body:
        problems.append(f"{rel}: /ready answered {status} {body[:120]} (want 503 naming only the "
                        f"broker: the store through the plugin must work)")
    return problems, proc, port


def check_images_build_and_run(p):
    """Each service image, emulated without Docker: the build stage's COPYs and make run on
    the build context after .dockerignore; the runtime layout (binary, plugin in
    TIZZA_LIB_DIR, healthcheck) starts with the image's ENV against a MongoDB replica-set
    URL; the HEALTHCHECK passes; /ready reaches the store; SIGTERM exits 0."""
    problems = []
    if any(not p.dockerfiles.get(s) for s in SERVICES):
        return ["Dockerfiles missing"]
    tmp = tempfile.mkdtemp(prefix="tizza-static-images.")
    procs = []
    double = None
    try:
        double, mongo_port = start_double(tmp)
        auth_port = None
        for name in SERVICES:  # auth first: the others fetch its JWKS at start
            probs, proc, port = emulate(p, name, tmp, mongo_port, auth_port)
            problems += probs
            if proc:
                procs.append((name, proc))
            if name == "auth":
                auth_port = port
            if probs and name == "auth":
                break
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        problems.append(str(e))
    finally:
        problems += stop_procs(procs, lambda name: p.dockerfile_paths[name])
        if double:
            double.terminate()
            double.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return problems


def check_gateway_runs_unprivileged(p):
    """The gateway image's nginx, laid out as the image has it (gateway-nginx.conf as the
    main config, deploy/nginx's files in conf.d, a stand-in frontend), starts as an
    unprivileged user whose only writable directory is /tmp (the read-only root of compose
    and Kubernetes): the image's HEALTHCHECK passes, / serves the frontend, an API route
    is a problem+json 502 while its service is down, and SIGQUIT (STOPSIGNAL) exits 0.
    Its stdout/stderr are pipes owned by that user, as runc hands them to a non-root
    container process."""
    import pwd
    import re
    if shutil.which("nginx") is None:
        return ["nginx not installed (make deps)"]
    st = final_stage(p, "gateway")
    if not st or p.gateway_main is None or not all(p.nginx.values()):
        return ["gateway files missing"]
    tmp = tempfile.mkdtemp(prefix="tizza-static-gateway.")
    os.chmod(tmp, 0o755)
    problems = []
    proc = None
    try:
        root = os.path.join(tmp, "root")
        confd, html, writable = (os.path.join(root, d) for d in ("etc/nginx/conf.d", "usr/share/nginx/html", "tmp"))
        for d in (confd, html, writable):
            os.makedirs(d)
        open(os.path.join(html, "index.html"), "w").write("<!doctype html><title>tizza</title>\n")
        port = free_port()
        upstreams = p.nginx["upstreams.compose.conf"]
        for name in SERVICES:  # names only resolve inside the container network
            upstreams = re.sub(r"\bserver\s+%s:\d+" % name, f"server 127.0.0.1:{free_port()}", upstreams)
        open(os.path.join(confd, "00-upstreams.conf"), "w").write(upstreams.replace("/usr/share/nginx/html", html))
        open(os.path.join(confd, "default.conf"), "w").write(
            re.sub(r"(?m)^(\s*)listen\s+\d+\s*;", rf"\1listen 127.0.0.1:{port};", p.nginx["gateway.conf"]))
        main = p.gateway_main.replace("/tmp/", writable + "/").replace("/etc/nginx/conf.d/", confd + "/")
        open(os.path.join(root, "nginx.conf"), "w").write(main)
        kwargs = {}
        r_out, w_out = os.pipe()
        r_err, w_err = os.pipe()
        if os.geteuid() == 0:  # run as nobody: only tmp is theirs
            user = pwd.getpwnam("nobody")
            for d, _, files in os.walk(tmp):
                os.chmod(d, 0o755)
            os.chown(writable, user.pw_uid, user.pw_gid)
            for fd in (w_out, w_err):
                os.fchown(fd, user.pw_uid, user.pw_gid)
            kwargs = dict(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
        entry = exec_form(st.last("ENTRYPOINT") or "") or []
        if not entry or entry[0] != "nginx":
            return [f"{p.dockerfile_paths['gateway']}: ENTRYPOINT is not nginx (exec form)"]
        proc = subprocess.Popen(entry + ["-p", root, "-c", os.path.join(root, "nginx.conf")],
                                stdout=w_out, stderr=w_err, stdin=subprocess.DEVNULL, **kwargs)
        os.close(w_out)
        os.close(w_err)
        hc = exec_form((st.last("HEALTHCHECK") or "CMD []").split("CMD", 1)[1]) or []
        script = os.path.join(p.root, "deploy/docker/healthcheck.sh")  # what the image ships there
        deadline = time.monotonic() + 10
        while subprocess.run([script] + hc[1:], env={"PORT": str(port), "PATH": "/usr/bin:/bin"},
                             capture_output=True).returncode != 0:
            if proc.poll() is not None or time.monotonic() > deadline:
                os.set_blocking(r_err, False)
                try:
                    err = os.read(r_err, 2000).decode(errors="replace")
                except BlockingIOError:
                    err = ""
                return [f"gateway: the HEALTHCHECK never passed (nginx exit {proc.poll()}): {err.strip()}"]
            time.sleep(0.05)
        status, body = http_get(f"http://127.0.0.1:{port}/")
        if status != 200 or "tizza" not in body:
            problems.append(f"gateway: / answered {status}")
        status, body = http_get(f"http://127.0.0.1:{port}/api/v2/tweets")
        if status != 502 or '"status":502' not in body:
            problems.append(f"gateway: /api/v2/tweets with tweets down answered {status} {body[:80]}")
        proc.send_signal(signal.SIGQUIT)
        rc = proc.wait(timeout=15)
        if rc != 0:
            problems.append(f"gateway: nginx exited {rc} after SIGQUIT")
        os.set_blocking(r_out, False)
        try:
            out = os.read(r_out, 65536).decode(errors="replace")
        except BlockingIOError:
            out = ""
        if '"status":200' not in out:
            problems.append("gateway: no JSON access log line on stdout")
        for fd in (r_out, r_err):
            os.close(fd)
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return problems
