#!/usr/bin/env python3
"""End-to-end delivery interop over HTTPS with a test CA.

Runs `argus-events serve` (https targets only, 127.0.0.0/8 allowed for the test), a Python HTTPS
receiver whose certificate is signed by a throwaway CA, creates a webhook, publishes events, and
verifies every delivery with PyPI `standardwebhooks` (Webhook(secret).verify(body, headers)) and
x-argus-signature with Python's hmac. Must run where the test CA is trusted by the system bundle:
tools/delivery_interop.sh arranges that in a private mount namespace.

No check is ever skipped: every delivery's `webhook-signature` entries must be ours, newest secret
first, and `x-argus-signature` must be the HMAC of the body under the secret of the first entry.
A second receiver has a certificate NOT signed by the trusted CA: every delivery to it must fail
(recorded as failed attempts) and it must never receive a request.

Prints `delivery_interop: N passed, M failed`; exits non-zero on any failure."""
import base64, hashlib, hmac, http.server, json, os, re, socket, ssl, subprocess, sys, tempfile, threading, time, urllib.request

from standardwebhooks.webhooks import Webhook

from argus_http import request

binary, cert, key, untrusted_cert, untrusted_key = sys.argv[1:6]
EVENTS = 200
passed = 0
failed = []
lock = threading.Lock()
secret_holder = {}
# Set while a rotation's answer is on its way: a delivery signed with the new secret can arrive before the
# script knows that secret; such a delivery is verified again once it does.
rotation_in_flight = threading.Event()
rotation_known = threading.Event()
seen = {}
seen_new = [0]


class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def verify(self, body, headers):
        """(True, None) when the delivery verifies under the secrets known now, else (False, why)."""
        secrets = secret_holder.get("secrets", [])
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
            # Which known secret made each v1 entry, in header order (None: not one of ours).
            signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body

            def entry_for(candidate):
                raw_key = base64.b64decode(candidate[len("whsec_"):])
                return "v1," + base64.b64encode(hmac.new(raw_key, signed, hashlib.sha256).digest()).decode()

            entries = headers.get("webhook-signature", "").split(" ")
            makers = [next((s for s in secrets if entry_for(s) == entry), None) for entry in entries]
            if None in makers:
                raise ValueError(f"a webhook-signature entry made by no known secret: {len(entries)} entries")
            # Newest first: secrets are listed newest first, so the makers' positions must increase.
            positions = [secrets.index(m) for m in makers]
            if positions != sorted(positions) or len(set(positions)) != len(positions):
                raise ValueError(f"webhook-signature entries not newest first: {positions}")
            newest = makers[0]
            raw = base64.b64decode(newest[len("whsec_"):])
            expected = "sha256=" + hmac.new(raw, body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, headers.get("x-argus-signature", "")):
                raise ValueError("x-argus-signature is not the HMAC of the body under the newest secret")
            secret = newest
            if secret == secrets[0] and len(secrets) > 1:
                with lock:
                    seen_new[0] += 1
            envelope = json.loads(body)
            if envelope.get("delivery_id") != headers.get("webhook-id"):
                raise ValueError("delivery_id differs from webhook-id")
        except Exception as error:  # noqa: BLE001
            return False, error
        return True, None

    def do_POST(self):
        global passed
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        # During a rotation a receiver accepts the new and the old secret (both sign for 24 h).
        ok, error = self.verify(body, headers)
        if not ok and rotation_in_flight.is_set():
            rotation_known.wait(10)
            ok, error = self.verify(body, headers)
        if not ok:
            with lock:
                failed.append(f"delivery rejected by the reference library: {error} (body {len(body)} bytes, content-length {headers.get('content-length')}, attempt {headers.get('x-argus-attempt')}, id {headers.get('webhook-id')}, conn {headers.get('connection')})")
        with lock:
            if ok:
                passed += 1
                seen[json.loads(body)["offset"]] = headers.get("webhook-id")
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()


class UntrustedReceiver(http.server.BaseHTTPRequestHandler):
    """Behind a certificate no trusted CA signed: a request reaching it is a failure."""
    protocol_version = "HTTP/1.1"
    requests = [0]

    def log_message(self, *args):
        pass

    def do_POST(self):
        with lock:
            UntrustedReceiver.requests[0] += 1
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()


def https_server(handler, certificate, private_key):
    """An HTTPS server on a port the kernel picks (bound once, never closed and reused)."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certificate, private_key)
    httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, httpd.server_address[1]


server, receiver_port = https_server(Receiver, cert, key)
untrusted, untrusted_port = https_server(UntrustedReceiver, untrusted_cert, untrusted_key)

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
    status, refused_webhook = request("POST", base + "/v1/webhooks", token=token, body={
        "url": f"https://localhost:{untrusted_port}/hook", "event_types": ["security.*"],
        "organization_id": "platform", "retry": {"max_retries": 0}})
    # A rotation while deliveries flow: both secrets sign; the reference library must accept with the new one.
    offsets = []
    for batch in range(EVENTS // 50):
        events = [{"type": "user.login" if n % 2 else "security.account_locked", "data": {"n": batch * 50 + n, "text": "ünïcødé ✓"}}
                  for n in range(50)]
        _, reply = request("POST", base + "/v1/events/batch", token=token, body={"events": events})
        offsets += [e["offset"] for e in reply["events"]]
        if batch == 1:
            rotation_in_flight.set()
            _, rotated = request("POST", base + f"/v1/webhooks/{webhook['id']}/rotate-secret", token=token)
            secret_holder["secrets"] = [rotated["secret"], webhook["secret"]]
            rotation_known.set()
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
    # The untrusted receiver: every security.* event is a failed delivery, none reached it.
    expected_refusals = EVENTS // 2
    refusals = 0
    deadline = time.time() + 60
    while time.time() < deadline:
        _, refused_stats = request("GET", base + f"/v1/webhooks/{refused_webhook['id']}/stats", token=token)
        refusals = refused_stats.get("failed", 0)
        if refusals >= expected_refusals:
            break
        time.sleep(0.2)
    if refusals != expected_refusals:
        failed.append(f"untrusted certificate: {refusals} failed deliveries, expected {expected_refusals}: {refused_stats}")
    if refused_stats.get("succeeded", 0) != 0:
        failed.append(f"untrusted certificate: deliveries succeeded: {refused_stats}")
    _, history = request("GET", base + f"/v1/webhooks/{refused_webhook['id']}/deliveries?status=failed&limit=5", token=token)
    errors = [a.get("error") or "" for d in history.get("data", []) for a in d.get("attempts", [])]
    if not errors or not all(errors):
        failed.append(f"untrusted certificate: failed attempts carry no error: {history}")
    else:
        print("untrusted certificate refused, e.g.:", errors[0])
    with lock:
        if UntrustedReceiver.requests[0] != 0:
            failed.append(f"untrusted certificate: {UntrustedReceiver.requests[0]} requests reached the receiver")
finally:
    serve.terminate()
    serve.wait(timeout=30)
    server.shutdown()
    untrusted.shutdown()

for line in failed[:10]:
    print("FAIL:", line)
print(f"delivery_interop: {passed} passed, {len(failed)} failed")
sys.exit(1 if failed or passed < EVENTS else 0)
