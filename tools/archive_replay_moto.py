#!/usr/bin/env python3
"""Issue 18 against moto S3: `serve --archive-target s3://... --retention-bytes N` archives sealed
segments and deletes them locally; every reader then reads them back from S3 with no silent gap.

  archive_replay_moto.py path/to/argus-events http://127.0.0.1:MOTO_PORT

Between serve and moto runs a small proxy that can refuse GETs of segment objects from a chosen base
on (an archive unreadable mid-way). Checks: GET /v1/events from 0, a webhook created with
"start":"beginning", replay from 0 (and its range), a lane that waits with status_reason
archive_unavailable and resumes, a tampered archived segment refused with its offset named.
Prints "ok"/"FAIL" lines and a last line "archive_replay: N passed, M failed"; exit 1 on any failure."""
import base64, http.server, json, os, shutil, signal, socket, subprocess, sys, tempfile, threading, time, urllib.error, urllib.request
import boto3

binary, moto = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp(prefix="argus-replay-moto-")
bucket, prefix = "argus-replay", "c/"
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {name}" + (f"\n     {detail}" if detail else ""), flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, condition, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    print(f"     (gave up after {seconds} s waiting for {what})", flush=True)
    return condition()


blocked = {"from": None}


class Proxy(http.server.BaseHTTPRequestHandler):
    """Forwards to moto; GETs of segment objects named at or after blocked["from"] answer 503."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else None
        name = self.path.split("?")[0].rsplit("/", 1)[-1]
        if self.command == "GET" and "/segments/" in self.path and blocked["from"] and name >= blocked["from"]:
            status, headers, payload = 503, {}, b"<Error><Code>ServiceUnavailable</Code><Message>blocked by the test</Message></Error>"
        else:
            headers_out = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
            request = urllib.request.Request(moto + self.path, data=body, method=self.command, headers=headers_out)
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status, headers, payload = response.status, dict(response.headers), response.read()
            except urllib.error.HTTPError as error:
                status, headers, payload = error.code, dict(error.headers), error.read()
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                self.send_header(key, value)
        # A HEAD answer carries the object's length, not its own.
        length = headers.get("Content-Length") or headers.get("content-length") if self.command == "HEAD" else None
        self.send_header("content-length", length or str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = forward


received = []
received_lock = threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        with received_lock:
            received.append((self.path, json.loads(body)["offset"]))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()


def offsets(path):
    with received_lock:
        return [offset for (p, offset) in received if p == path]


servers = []
for handler in (Proxy, Receiver):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    servers.append(server)
proxy_url = f"http://127.0.0.1:{servers[0].server_address[1]}"
receiver_url = f"http://127.0.0.1:{servers[1].server_address[1]}"

s3 = boto3.client("s3", endpoint_url=moto, region_name="us-east-1")
s3.create_bucket(Bucket=bucket)
data = f"{work}/data"
port = free_port()
base = f"http://127.0.0.1:{port}"
serve_log = open(f"{work}/serve.log", "wb")


def start_serve():
    return subprocess.Popen(
        [binary, "serve", "--no-supervisor", "--data-dir", data, "--listen", f"127.0.0.1:{port}", "--allow-http",
         "--allow-target-cidr", "127.0.0.0/8", "--segment-bytes", "4096", "--archive-target", f"s3://{bucket}/{prefix}",
         "--s3-endpoint", proxy_url, "--archive-interval-seconds", "1", "--retention-bytes", "8192"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=serve_log, env=dict(os.environ, ARGUS_EXIT_ON_STDIN_EOF="1"))


def stop_serve(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


serve = start_serve()


def call(method, path, body=None, token=None, auth=None, form=None):
    headers = {}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    if form is not None:
        payload = form.encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    if token:
        headers["authorization"] = f"Bearer {token}"
    if auth:
        headers["authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    request = urllib.request.Request(base + path, data=payload, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


try:
    credentials = {}
    deadline = time.time() + 60
    while len(credentials) < 2 and time.time() < deadline:
        line = serve.stdout.readline().decode()
        if not line:
            break
        for field in ("client_id", "client_secret"):
            if line.strip().startswith(field + ":"):
                credentials[field] = line.split(":", 1)[1].strip()
    threading.Thread(target=serve.stdout.read, daemon=True).start()
    check("serve printed the first client", len(credentials) == 2)
    _, grant = call("POST", "/oauth/token", form="grant_type=client_credentials",
                    auth=f"{credentials['client_id']}:{credentials['client_secret']}")
    token = grant["access_token"]
    published = []
    for batch in range(30):
        events = [{"type": "user.login", "organization_id": "org_c", "data": {"n": batch * 10 + n}} for n in range(10)]
        status, body = call("POST", "/v1/events/batch", {"events": events}, token)
        published += [event["offset"] for event in (body or {}).get("events", [])]
    check("published 300 user.login events", len(published) == 300)
    head = published[-1] + 1

    def local_first():
        out = subprocess.run([binary, "segments", "--data-dir", data, "--format", "json"], capture_output=True, text=True).stdout
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
        return min((row["base_offset"] for row in rows), default=0)
    first = wait_for("retention to delete archived segments", lambda: local_first() > 100)
    check(f"retention deleted archived segments locally (first local offset {local_first()})", first)
    # A restart, so that no reader has the events in memory any more: from here on they come from S3.
    stop_serve(serve)
    serve = start_serve()
    threading.Thread(target=serve.stdout.read, daemon=True).start()
    def healthy():
        try:
            return call("GET", "/healthz")[0] == 200
        except OSError:
            return False
    check("serve restarted", wait_for("serve to answer", healthy, 30))

    def listed(after=None):
        status, body = call("GET", "/v1/events?organization_id=*&limit=1000" + (f"&after={after}" if after is not None else ""), token=token)
        return status, body

    status, body = listed()
    check(f"GET /v1/events from the start lists 0..{head - 1} (archive, then local)",
          status == 200 and [e["offset"] for e in body["data"]] == list(range(head)), f"{status} {str(body)[:200]}")

    status, hook = call("POST", "/v1/webhooks", {"url": f"{receiver_url}/first", "event_types": ["user.login"], "ordered": True,
                                                 "start": "beginning", "organization_id": "*"}, token)
    check("create a webhook with start: beginning", status == 201, str(hook)[:200])
    wait_for("300 deliveries", lambda: len(offsets("/first")) >= 300)
    check("start: beginning delivered every user.login event from the archive on, in order", offsets("/first") == published,
          str(offsets("/first"))[:200])

    status, replay = call("POST", f"/v1/webhooks/{hook['id']}/replay", {"from_offset": 0}, token)
    check(f"replay from 0 answers its range (0..{head})", status == 202 and replay["from_offset"] == 0 and replay["until_offset"] == head,
          str(replay))
    wait_for("the replay", lambda: len(offsets("/first")) >= 600)
    check("the replay from 0 delivered them again, in order", offsets("/first") == published * 2)

    bases = sorted(int(o["Key"].rsplit("/", 1)[-1].split(".")[0])
                   for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "manifest/").get("Contents", []))
    check(f"the bucket holds several archived segments ({len(bases)})", len(bases) >= 4)
    middle = bases[len(bases) // 2]
    blocked["from"] = f"{middle:020d}.log"
    shutil.rmtree(f"{data}/archive-cache", ignore_errors=True)
    status, second = call("POST", "/v1/webhooks", {"url": f"{receiver_url}/second", "event_types": ["user.login"], "ordered": True,
                                                   "start": "beginning", "organization_id": "*"}, token)

    def stats():
        return call("GET", f"/v1/webhooks/{second['id']}/stats", token=token)[1]
    waiting = wait_for("status_reason archive_unavailable", lambda: stats().get("status_reason") == "archive_unavailable")
    check("an archive unreadable mid-way: the lane waits with status_reason archive_unavailable", waiting, str(stats()))
    before = [offset for offset in published if offset < middle]
    wait_for(f"deliveries up to {middle}", lambda: len(offsets("/second")) >= len(before), 20)
    time.sleep(0.5)
    check(f"it delivered up to the unreadable segment ({middle}) and nothing past it", offsets("/second") == before,
          str(offsets("/second"))[-10:])
    status, body = listed()
    check("GET /v1/events meanwhile answers 503 archive_unavailable",
          status == 503 and body["error"]["code"] == "archive_unavailable", f"{status} {body}")
    blocked["from"] = None
    wait_for("the lane to resume", lambda: len(offsets("/second")) >= 300)
    check("when the archive returns the lane resumes without a gap", offsets("/second") == published)
    check("and its status_reason clears", wait_for("status_reason null", lambda: stats().get("status_reason") is None, 10))

    # A tampered archived segment: one byte of its record 2 changed in S3.
    tampered = bases[2]
    key = f"{prefix}segments/{tampered:020d}.log"
    segment = bytearray(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    position = 72
    for _ in range(2):
        position += 8 + int.from_bytes(segment[position:position + 4], "little")
    length = int.from_bytes(segment[position:position + 4], "little")
    segment[position + 8 + length - 2] ^= 0x20
    s3.put_object(Bucket=bucket, Key=key, Body=bytes(segment))
    shutil.rmtree(f"{data}/archive-cache", ignore_errors=True)
    status, body = listed(after=tampered - 1)
    message = (body or {}).get("error", {}).get("message", "")
    check(f"a tampered archived segment is refused naming offset {tampered + 2}",
          status == 503 and f"offset {tampered + 2}" in message, f"{status} {message}")
finally:
    stop_serve(serve)
    for server in servers:
        server.shutdown()
    if failed:
        print("     serve log (last lines):")
        for line in open(f"{work}/serve.log", errors="replace").read().splitlines()[-15:]:
            print("     " + line[:300])
    shutil.rmtree(work, ignore_errors=True)
    print(f"archive_replay: {passed} passed, {failed} failed", flush=True)
sys.exit(1 if failed else 0)
