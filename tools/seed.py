"""seed -- the demo data of `make run`, created through the public APIs of the gateway.

    seed.py admin-password --logins FILE    ensure FILE, print the admin's password
    seed.py seed --base URL [--public-url URL] --logins FILE --marker FILE [--wait SECS]
    seed.py show --logins FILE              the demo logins, for the banner

Design. Only what any client could do: sign up, log in, create pizzerias and pizzas as their
owners, the admin approves, users like and tweet. Nothing is written into a store directly
(pizza keeps internal fields, such as who may see an unapproved pizza, that only its API
fills in). The admin itself cannot come from an API (SPEC §4): tools/run.sh runs
`tizza-auth create-superuser` with the password `admin-password` prints, before auth starts.

Credentials. The passwords are random, made once per ./var and kept in the logins file
(mode 0600, next to the data they open), so the demo accounts of one machine are not the
demo accounts of every machine. TIZZA_ADMIN_PASSWORD / TIZZA_DEMO_PASSWORD, when set the
first time, are used instead.

Idempotent, twice over. `seed` first waits until every service answers GET
/services/<name>/ready with 200 through the gateway; then, when the marker file exists, it
stops there (the usual restart). Without the marker every step checks before it writes: a
user that exists (409) is logged in instead, a pizzeria or pizza of that name that exists is
reused, an unapproved demo pizza is approved, a tweet already posted is not posted again.
So a seed interrupted half way is completed by the next start, and the marker is written
only after everything succeeded.

Pictures. thumbnail_url must be an absolute http(s) URL (pizza validates it), so the demo
pizzas point at the frontend's own files, <public-url>/pizzas/<name>.svg
(services/web/public/pizzas/, copied into the build by Vite); public-url defaults to
http://localhost:8080, the address `make run` prints.

The Python standard library, and tools/gen.py for the list of services.
"""
import argparse
import http.client
import json
import os
import secrets
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

SERVICES = tuple(s["name"] for s in gen.load_services())
ADMIN = {"username": "admin", "email": "admin@tizza.example", "about": "approves pizzas"}
USERS = [
    {"username": "luigi", "email": "luigi@tizza.example", "name": "Luigi Esposito",
     "about": "owns Da Luigi"},
    {"username": "giulia", "email": "giulia@tizza.example", "name": "Giulia Romano",
     "about": "owns Forno Giulia"},
    {"username": "marco", "email": "marco@tizza.example", "name": "Marco Bianchi",
     "about": "owns Napoli Centrale"},
    {"username": "anna", "email": "anna@tizza.example", "name": "Anna Conti",
     "about": "just loves pizza"},
]
PIZZERIAS = [
    {"owner": "luigi", "name": "Da Luigi", "address": "Via dei Tribunali 32, Napoli",
     "phone": "+39 081 555 0132", "pizzas": [
         ("Margherita", "vegetarian", "margherita",
          "Tomato, fior di latte, fresh basil and a thread of olive oil."),
         ("Marinara", "vegan", "marinara",
          "Tomato, garlic, oregano, olive oil. No cheese, no regrets."),
         ("Diavola", "meat", "diavola",
          "Spicy salami, chili and mozzarella on a tomato base."),
     ]},
    {"owner": "giulia", "name": "Forno Giulia", "address": "Corso Vittorio Emanuele 120, Roma",
     "phone": "+39 06 555 0120", "pizzas": [
         ("Funghi", "vegetarian", "funghi",
          "Champignons and porcini on mozzarella and tomato."),
         ("Quattro formaggi", "vegetarian", "quattro-formaggi",
          "Mozzarella, gorgonzola, fontina and parmigiano, one per quarter."),
         ("Ortolana", "vegan", "ortolana",
          "Grilled zucchini, peppers and black olives on tomato."),
     ]},
    {"owner": "marco", "name": "Napoli Centrale", "address": "Piazza Garibaldi 7, Napoli",
     "phone": "+39 081 555 0007", "pizzas": [
         ("Pepperoni", "meat", "pepperoni", "Plenty of pepperoni on melted mozzarella."),
         ("Prosciutto e rucola", "meat", "prosciutto-rucola",
          "Parma ham and rocket, added after the oven."),
     ]},
]
# (user, pizza title, liked)
LIKES = [("anna", "Margherita", True), ("anna", "Diavola", False), ("anna", "Funghi", True),
         ("luigi", "Quattro formaggi", True)]
TWEETS = [
    ("admin", "Welcome to Tizza! Swipe through the pizzas and like the good ones."),
    ("luigi", "Fresh basil this morning: the Margherita tastes like summer."),
    ("giulia", "Forno Giulia is on Tizza now. The Ortolana is vegan all week!"),
    ("marco", "Pepperoni or prosciutto e rucola? Swipe and tell us."),
    ("anna", "The Diavola at Da Luigi is too hot for me, the Margherita is perfect."),
]


def log(msg):
    print(msg, flush=True)  # run.sh puts "seed | " in front


class Failed(Exception):
    pass


# ---------------------------------------------------------------- HTTP

class Api:
    """JSON over HTTP/1.1 to the gateway, one connection per request."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        if u.scheme != "http" or not u.hostname:
            raise Failed("--base must be an http:// URL, not %r" % base)
        self.host, self.port = u.hostname, u.port or 80

    def call(self, method, path, body=None, token=None, expect=(200,), retries=5):
        """(status, json or None); Failed unless the status is in `expect`. 429 and 502/503
        (a service still starting) are retried a few times."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = "Bearer " + token
        for attempt in range(retries + 1):
            status, hdrs, raw = self._once(method, path, data, headers)
            if status in (429, 502, 503) and attempt < retries:
                wait = hdrs.get("retry-after", "")
                time.sleep(min(float(wait), 30.0) if wait.isdigit() else 1.0 + attempt)
                continue
            break
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = None
        if status not in expect:
            detail = doc.get("detail") if isinstance(doc, dict) else raw[:200]
            raise Failed("%s %s -> %d: %s" % (method, path, status, detail))
        return status, doc

    def _once(self, method, path, data, headers):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=data, headers=headers)
            r = conn.getresponse()
            raw = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, raw
        finally:
            conn.close()

    def ready(self, name):
        try:
            status, _, _ = self._once("GET", "/services/%s/ready" % name, None, {})
            return status == 200
        except OSError:
            return False


def query(**kw):
    return "?" + urllib.parse.urlencode(kw)


# ---------------------------------------------------------------- credentials

def load_logins(path, create=False):
    """{username: password}; created (0600) with random passwords when absent and asked to."""
    try:
        with open(path) as f:
            doc = json.load(f)
        if not isinstance(doc, dict) or not all(isinstance(v, str) for v in doc.values()):
            raise Failed("%s: not a JSON object of username -> password" % path)
        return doc
    except FileNotFoundError:
        if not create:
            raise Failed("%s does not exist (run `seed.py admin-password` first)" % path)
    demo = os.environ.get("TIZZA_DEMO_PASSWORD")
    doc = {ADMIN["username"]: os.environ.get("TIZZA_ADMIN_PASSWORD") or
           "admin-" + secrets.token_urlsafe(9)}
    for u in USERS:
        doc[u["username"]] = demo or "pizza-" + secrets.token_urlsafe(6)
    for name, pw in doc.items():
        if not 8 <= len(pw.encode()) <= 256:
            raise Failed("the password of %s must be 8-256 bytes" % name)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    return doc


# ---------------------------------------------------------------- seeding

def wait_ready(api, timeout):
    deadline = time.monotonic() + timeout
    pending = list(SERVICES)
    while pending:
        pending = [s for s in pending if not api.ready(s)]
        if not pending:
            break
        if time.monotonic() > deadline:
            raise Failed("not ready after %.0f s: %s" % (timeout, ", ".join(pending)))
        time.sleep(1.0)


def login(api, username, password):
    try:
        _, doc = api.call("POST", "/api/v1/auth/login",
                          {"username": username, "password": password})
    except Failed as e:
        raise Failed("cannot log in as %s (%s); the demo accounts in ./var were made with "
                     "other passwords: remove ./var to start over" % (username, e)) from None
    return doc["access_token"], doc["user"]["id"]


def ensure_user(api, user, password):
    body = {"username": user["username"], "email": user["email"], "password": password,
            "name": user["name"]}
    status, _ = api.call("POST", "/api/v1/auth/signup", body, expect=(201, 409))
    if status == 201:
        log("user %s signed up" % user["username"])
    return login(api, user["username"], password)


def ensure_pizzeria(api, spec, owner_id, token):
    _, page = api.call("GET", "/api/v1/pizzerias" + query(owner_id=owner_id, limit=100))
    for p in page["results"]:
        if p["name"] == spec["name"]:
            return p["id"]
    _, p = api.call("POST", "/api/v1/pizzerias",
                    {"name": spec["name"], "address": spec["address"], "phone": spec["phone"]},
                    token=token, expect=(201,))
    log("pizzeria %s created" % spec["name"])
    return p["id"]


def ensure_pizza(api, pizzeria_id, pizza, owner_token, admin_token, public_url):
    title, kind, picture, description = pizza
    _, page = api.call("GET", "/api/v1/pizzas" + query(pizzeria_id=pizzeria_id, limit=100),
                       token=admin_token)
    found = next((p for p in page["results"] if p["title"] == title), None)
    if found is None:
        body = {"pizzeria_id": pizzeria_id, "title": title, "kind": kind,
                "description": description,
                "thumbnail_url": "%s/pizzas/%s.svg" % (public_url, picture)}
        _, found = api.call("POST", "/api/v1/pizzas", body, token=owner_token, expect=(201,))
        log("pizza %s created" % title)
    if not found.get("approved"):
        api.call("PATCH", "/api/v1/pizzas/" + found["id"], {"approved": True},
                 token=admin_token)
        log("pizza %s approved" % title)
    return found["id"]


def ensure_tweet(api, username, body, token):
    _, page = api.call("GET", "/api/v2/tweets" + query(tweetedby=username, limit=100))
    if any(t.get("body") == body for t in page["results"]):
        return
    api.call("POST", "/api/v2/tweets", {"body": body}, token=token, expect=(201,))
    log("%s tweeted" % username)


def seed(api, logins, public_url):
    admin_token, _ = login(api, ADMIN["username"], logins[ADMIN["username"]])
    tokens, ids = {ADMIN["username"]: admin_token}, {}
    for u in USERS:
        tokens[u["username"]], ids[u["username"]] = ensure_user(api, u, logins[u["username"]])
    pizza_ids = {}
    for spec in PIZZERIAS:
        owner = spec["owner"]
        pid = ensure_pizzeria(api, spec, ids[owner], tokens[owner])
        for pizza in spec["pizzas"]:
            pizza_ids[pizza[0]] = ensure_pizza(api, pid, pizza, tokens[owner], admin_token,
                                               public_url)
    for username, title, liked in LIKES:
        api.call("PUT", "/api/v1/likes/" + pizza_ids[title], {"liked": liked},
                 token=tokens[username], expect=(200, 201))
    for username, body in TWEETS:
        ensure_tweet(api, username, body, tokens[username])


# ---------------------------------------------------------------- commands

def cmd_admin_password(args):
    print(load_logins(args.logins, create=True)[ADMIN["username"]])


def cmd_seed(args):
    api = Api(args.base)
    t0 = time.monotonic()
    wait_ready(api, args.wait)
    log("every service is ready (%.1f s)" % (time.monotonic() - t0))
    if os.path.exists(args.marker):
        log("demo data already there (%s)" % args.marker)
        return
    logins = load_logins(args.logins)
    seed(api, logins, args.public_url.rstrip("/"))
    with open(args.marker, "w") as f:
        f.write(time.strftime("%Y-%m-%dT%H:%M:%SZ\n", time.gmtime()))
    log("demo data created in %.1f s" % (time.monotonic() - t0))


def cmd_show(args):
    logins = load_logins(args.logins)
    print("Demo logins (username / password; kept in %s):" % args.logins)
    for u in [ADMIN] + USERS:
        pw = logins.get(u["username"])
        if pw:
            print("  %-8s %-22s %s" % (u["username"], pw, u["about"]))


def main(argv):
    ap = argparse.ArgumentParser(prog="seed.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("admin-password")
    p.add_argument("--logins", required=True)
    p = sub.add_parser("seed")
    p.add_argument("--base", default="http://127.0.0.1:8080")
    p.add_argument("--public-url", default="http://localhost:8080")
    p.add_argument("--logins", required=True)
    p.add_argument("--marker", required=True)
    p.add_argument("--wait", type=float, default=120.0)
    p = sub.add_parser("show")
    p.add_argument("--logins", required=True)
    args = ap.parse_args(argv)
    try:
        {"admin-password": cmd_admin_password, "seed": cmd_seed, "show": cmd_show}[args.cmd](args)
    except (Failed, OSError) as e:
        print("seed: %s" % e, file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
