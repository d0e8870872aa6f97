"""Schemathesis hooks of scripts/fuzz.sh: make generated requests reach the
write paths.

Random data alone mostly gets 401 (a generated `auth` block wins over the
Authorization header) or 404 (random slugs). These hooks, for most
requests, put the run's valid token into `auth`, log in with real
credentials, and name objects that exist: `keep` objects for reads, updates
and references, `spare` ones (no times refer to them) for deletes, so that
deleting never starves the other operations. The rest stays random, so
refusals are fuzzed as well.

The fixtures come from the JSON file named by FUZZ_FIXTURES (written by
fuzz.sh). Choices are a function of the generated value, so hypothesis can
replay and shrink.
"""

import copy
import json
import os
import random
import urllib.error
import urllib.request

import schemathesis

with open(os.environ["FUZZ_FIXTURES"]) as f:
    FIX = json.load(f)

# Share of requests whose generated value is replaced by a working one.
WORKING = 0.75


def _rng(context, value):
    op = context.operation
    key = json.dumps(value, sort_keys=True, default=str)
    return random.Random(f"{op.method} {op.path} {key}" if op else key)


def _pool(kind, method):
    pools = FIX[kind]
    return pools["spare"] if method == "DELETE" and pools["spare"] else pools["keep"]


def _path_kind(path, name):
    if name == "uuid":
        return "times"
    if name == "username":
        return "users"
    if "/org-roles/" in path:
        return "org_roles"
    if path.startswith("/v0/activities/"):
        return "activities"
    if path.startswith("/v0/projects/"):
        return "projects"
    return None


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    op = context.operation
    if op is None or not isinstance(path_parameters, dict):
        return path_parameters
    rng = _rng(context, path_parameters)
    path_parameters = dict(path_parameters)
    for name in list(path_parameters):
        kind = _path_kind(op.path, name)
        if kind and rng.random() < WORKING:
            path_parameters[name] = rng.choice(_pool(kind, op.method.upper()))
    return path_parameters


@schemathesis.hook
def map_query(context, query):
    if not isinstance(query, dict):
        return query
    rng = _rng(context, query)
    query = dict(query)
    for name, kind in (("user", "users"), ("project", "projects"), ("activity", "activities")):
        if name in query and rng.random() < WORKING:
            query[name] = rng.choice(FIX[kind]["keep"])
    if "token" in query and rng.random() < WORKING:
        query["token"] = FIX["token"]
    return query


def _valid_object(path, method, rng):
    """A well-formed object for the writes whose generated objects are
    almost never accepted (unknown fields, loose `uri`/`date` formats, a
    user who is not a member of the project), or None."""
    if path == "/v0/times" and method == "POST":
        project, user = rng.choice(FIX["memberships"])
        return {
            "duration": rng.randint(1, 36000),
            "user": user,
            "project": project,
            "activities": [rng.choice(FIX["activities"]["keep"])],
            "notes": rng.choice([None, "fuzzed"]),
            "issue_uri": rng.choice([None, "https://example.org/issues/1"]),
            "date_worked": f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        }
    tag = f"{rng.getrandbits(40):x}"
    if method == "POST" and path == "/v0/activities":
        return {"name": f"Fuzz activity {tag}", "slug": f"fz-{tag}"}
    if method == "POST" and path == "/v0/projects":
        return {
            "name": f"Fuzz project {tag}",
            "slugs": [f"fz-{tag}"],
            "uri": rng.choice([None, "https://example.org/fuzz"]),
            "users": {rng.choice(FIX["users"]["keep"]): {"member": True, "spectator": False, "manager": True}},
        }
    if method == "POST" and path == "/v0/users":
        return {"username": f"fz{tag}", "password": "password", "display_name": f"Fuzz {tag}"}
    if method == "POST" and path == "/v0/users/org-roles":
        return {"name": f"Fuzz role {tag}", "slug": f"fz-role-{tag}"}
    if path == "/v0/times/{uuid}":
        return {"duration": rng.randint(1, 36000), "notes": "fuzzed update"}
    if path.startswith("/v0/timer"):
        return {"notes": rng.choice([None, "fuzzed timer"])}
    return None


def _call(method, path, obj):
    req = urllib.request.Request(
        FIX["base"] + path,
        method=method,
        data=json.dumps({"object": obj}).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": "Bearer " + FIX["token"],
            # fuzz.sh leaves these out when it checks for 2xx answers.
            "X-Request-Id": "fuzz-fixture",
        },
    )
    try:
        urllib.request.urlopen(req).read()
    except urllib.error.HTTPError:
        pass


def _ensure_timer(rng):
    """Timers are state: reading, editing, stopping or discarding one needs
    one running, and another operation may have stopped it."""
    _call("POST", "/v0/timer/start", {
        "project": rng.choice(FIX["projects"]["keep"]),
        "activities": [rng.choice(FIX["activities"]["keep"])],
    })


@schemathesis.hook
def map_case(context, case):
    op = context.operation
    if op is None or not op.path.startswith("/v0/timer"):
        return case
    rng = _rng(context, repr(case.body) + repr(case.query))
    if op.path != "/v0/timer/start" and rng.random() < WORKING:
        _ensure_timer(rng)
    elif op.path == "/v0/timer/start" and rng.random() < 0.5:
        # Otherwise a start only ever meets a running timer (409).
        _call("POST", "/v0/timer/stop", {})
    return case


def _fix_object(obj, path, method, rng):
    if not isinstance(obj, dict):
        return
    is_time = path.startswith("/v0/times") or path.startswith("/v0/timer")
    if "project" in obj or (is_time and rng.random() < WORKING):
        if rng.random() < WORKING:
            obj["project"] = rng.choice(FIX["projects"]["keep"])
    if "activities" in obj or (is_time and rng.random() < WORKING):
        if rng.random() < WORKING:
            obj["activities"] = [rng.choice(FIX["activities"]["keep"])]
    if "default_activity" in obj and rng.random() < WORKING:
        obj["default_activity"] = rng.choice(FIX["activities"]["keep"])
    if path.startswith("/v0/times") and "user" in obj and rng.random() < WORKING:
        obj["user"] = rng.choice(FIX["users"]["keep"])
    if isinstance(obj.get("users"), dict) and rng.random() < WORKING:
        obj["users"] = {
            rng.choice(FIX["users"]["keep"]): {"member": True, "spectator": False, "manager": False}
        }
    if path.startswith("/v0/users") and "org_roles" in obj and rng.random() < WORKING:
        obj["org_roles"] = [rng.choice(FIX["org_roles"]["keep"])]


@schemathesis.hook
def map_body(context, body):
    op = context.operation
    if op is None or not isinstance(body, dict):
        return body
    rng = _rng(context, body)
    body = copy.deepcopy(body)
    if op.path == "/v0/login":
        if rng.random() < WORKING:
            username, password = rng.choice(FIX["logins"])
            body["auth"] = {"type": "password", "username": username, "password": password}
        return body
    if rng.random() < WORKING:
        body["auth"] = {"type": "token", "token": FIX["token"]}
    method = op.method.upper()
    valid = _valid_object(op.path, method, rng) if rng.random() < 0.5 else None
    if valid is not None:
        body["object"] = valid
    else:
        _fix_object(body.get("object"), op.path, method, rng)
    return body
