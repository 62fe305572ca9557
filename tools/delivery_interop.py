#!/usr/bin/env python3
"""End-to-end delivery interop over HTTPS with a test CA.

Runs `argus-events serve` (https targets only, 127.0.0.0/8 allowed for the test), a Python HTTPS
receiver whose certificate is signed by a throwaway CA, creates a webhook, publishes events, and
verifies every delivery with PyPI `standardwebhooks` (Webhook(secret).verify(body, headers)) and
x-argus-signature with Python's hmac. Must run where the test CA is trusted by the system bundle:
tools/delivery_interop.sh arranges that in a private mount namespace.

Prints `delivery_interop: N passed, M failed`; exits non-zero on any failure."""
import base64, hashlib, hmac, http.server, json, os, re, socket, ssl, subprocess, sys, tempfile, threading, time, urllib.request

from standardwebhooks.webhooks import Webhook

binary, cert, key = sys.argv[1], sys.argv[2], sys.argv[3]
EVENTS = 200
passed = 0
failed = []
lock = threading.Lock()
secret_holder = {}
seen = {}
seen_new = [0]


class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        global passed
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        # During a rotation a receiver accepts the new and the old secret (both sign for 24 h).
        secrets = secret_holder.get("secrets", [])
        ok = True
        try:
            last_error = None
            for secret in secrets:
                try:
                    Webhook(secret).verify(body, headers)
                    break
                except Exception as error:  # noqa: BLE001
                    last_error = error
            else:
                raise last_error or ValueError("no secret")
            raw = base64.b64decode(secret[len("whsec_"):])
            expected = "sha256=" + hmac.new(raw, body, hashlib.sha256).hexdigest()
            if headers.get("webhook-signature", "").split(" ")[0] == "v1," + base64.b64encode(hmac.new(
                    raw, f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body, hashlib.sha256).digest()).decode():
                if not hmac.compare_digest(expected, headers.get("x-argus-signature", "")):
                    raise ValueError("x-argus-signature mismatch")
            if secret == secrets[0] and len(secrets) > 1:
                with lock:
                    seen_new[0] += 1
            envelope = json.loads(body)
            if envelope.get("delivery_id") != headers.get("webhook-id"):
                raise ValueError("delivery_id differs from webhook-id")
        except Exception as error:  # noqa: BLE001
            ok = False
            with lock:
                failed.append(f"delivery rejected by the reference library: {error}")
        with lock:
            if ok:
                passed += 1
                seen[json.loads(body)["offset"]] = headers.get("webhook-id")
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(method, url, token=None, body=None, form=None, basic=None):
    data = None
    req = urllib.request.Request(url, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if basic:
        req.add_header("Authorization", "Basic " + base64.b64encode(basic.encode()).decode())
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    if form is not None:
        data = form.encode()
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(req, data=data, timeout=30) as response:
        return response.status, json.loads(response.read() or b"null")


receiver_port = free_port()
server = http.server.ThreadingHTTPServer(("127.0.0.1", receiver_port), Receiver)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
threading.Thread(target=server.serve_forever, daemon=True).start()

data_dir = tempfile.mkdtemp(prefix="argus-interop-")
serve = subprocess.Popen([binary, "serve", "--no-supervisor", "--data-dir", data_dir, "--listen", "127.0.0.1:0",
                          "--allow-target-cidr", "127.0.0.0/8"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
try:
    text = ""
    deadline = time.time() + 30
    while "Try it:" not in text and time.time() < deadline:
        text += serve.stdout.readline()
    base = re.search(r"listening on (http://\S+)", text).group(1)
    client_id = re.search(r"client_id:\s+(\S+)", text).group(1)
    client_secret = re.search(r"client_secret:\s+(\S+)", text).group(1)
    _, token_reply = request("POST", base + "/oauth/token", form="grant_type=client_credentials", basic=f"{client_id}:{client_secret}")
    token = token_reply["access_token"]
    status, webhook = request("POST", base + "/v1/webhooks", token=token, body={
        "url": f"https://localhost:{receiver_port}/hook", "event_types": ["user.*", "security.*"],
        "organization_id": "platform", "max_in_flight": 8})
    secret_holder["secrets"] = [webhook["secret"]]
    # A rotation while deliveries flow: both secrets sign; the reference library must accept with the new one.
    offsets = []
    for batch in range(EVENTS // 50):
        events = [{"type": "user.login" if n % 2 else "security.account_locked", "data": {"n": batch * 50 + n, "text": "ünïcødé ✓"}}
                  for n in range(50)]
        _, reply = request("POST", base + "/v1/events/batch", token=token, body={"events": events})
        offsets += [e["offset"] for e in reply["events"]]
        if batch == 1:
            _, rotated = request("POST", base + f"/v1/webhooks/{webhook['id']}/rotate-secret", token=token)
            secret_holder["secrets"] = [rotated["secret"], webhook["secret"]]
    deadline = time.time() + 60
    while time.time() < deadline:
        with lock:
            if set(offsets) <= set(seen):
                break
        time.sleep(0.1)
    if seen_new[0] == 0:
        failed.append("no delivery verified with the rotated secret")
    missing = set(offsets) - set(seen)
    if missing:
        failed.append(f"{len(missing)} events never arrived over HTTPS")
    _, stats = request("GET", base + f"/v1/webhooks/{webhook['id']}/stats", token=token)
    if stats.get("failed", 0) != 0:
        failed.append(f"stats report failed deliveries: {stats}")
finally:
    serve.terminate()
    serve.wait(timeout=30)
    server.shutdown()

for line in failed[:10]:
    print("FAIL:", line)
print(f"delivery_interop: {passed} passed, {len(failed)} failed")
sys.exit(1 if failed or passed < EVENTS else 0)
