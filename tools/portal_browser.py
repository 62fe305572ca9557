#!/usr/bin/env python3
"""The delivery portal in headless Chromium against a live server (Selenium + Debian chromium-driver).

Starts a release `argus-events serve` on a free 127.0.0.1 port with a temporary data directory, a receiver
that fails (HTTP 500 with a body holding HTML) until told to succeed, and two organizations, each with
webhooks. Then, with a portal link of organization A:
  - the page shows A's webhooks and nothing of B's, and the token is gone from the address bar;
  - a failed delivery's details show the status code, the response body (as text: the HTML in it is not
    run or parsed) and the error of an attempt that got no answer;
  - Retry sends a new attempt that the receiver gets, and the page then shows the delivery succeeded;
  - paging (20 a page), a test event, pause and enable, rotating the secret (shown once) and replay work;
  - the chart is drawn; every control reached so far is a real button; Tab reaches them;
  - at phone width (375 px) nothing overflows horizontally;
  - a read-only link shows no actions;
  - the browser log holds no error (console errors, CSP violations, failed loads).
Saves a 1280x800 screenshot (default .ci/logs/portal.png; `--screenshot docs/portal.png` refreshes the
README's). Prints `portal_browser: N passed, M failed`; exits non-zero on any failure.

Everything it starts dies with it: the server reads its standard input and exits at EOF
(ARGUS_EXIT_ON_STDIN_EOF=1) and gets SIGKILL when this process dies (PR_SET_PDEATHSIG);
tools/portal_browser.sh runs this script in its own PID namespace, so Chromium and chromedriver die with it
too."""
import argparse, ctypes, http.server, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, threading, time, urllib.request

import argus_http
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

parser = argparse.ArgumentParser()
parser.add_argument("--binary", required=True)
parser.add_argument("--screenshot", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".ci", "logs", "portal.png"))
parser.add_argument("--phone-screenshot", help="also save the 375 px view here")
parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
parser.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
arguments = parser.parse_args()

SUCCEEDED = 21  # with the failed one, 22 deliveries: two pages of the portal's 20
HOSTILE_BODY = '{"error":"receiver down","hint":"<img src=x onerror=alert(1)><script>window.pwned=1</script>"}'
passed = 0
failures = []


def check(condition, what):
    global passed
    if condition:
        passed += 1
        print(f"ok    {what}", flush=True)
    else:
        failures.append(what)
        print(f"FAIL  {what}", flush=True)
    return condition


def die_with_parent():
    """In the child before exec: SIGKILL when the parent (this script) dies."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Receiver(http.server.BaseHTTPRequestHandler):
    """Answers 500 (with HOSTILE_BODY) while `failing` is set, 204 after; records every request."""
    protocol_version = "HTTP/1.1"
    failing = threading.Event()
    requests = []
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        with Receiver.lock:
            Receiver.requests.append({"path": self.path, "webhook_id": self.headers.get("webhook-id"), "body": body,
                                      "failed": Receiver.failing.is_set()})
        if Receiver.failing.is_set():
            payload = HOSTILE_BODY.encode()
            self.send_response(500)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        else:
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()


def wait_for(what, condition, seconds=30, interval=0.1):
    """Polls `condition` until it returns something truthy; fails naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"waited {seconds} s for {what}")


def request(method, url, **options):
    """The JSON answer of one API call (argus_http.request without the status)."""
    return argus_http.request(method, url, **options)[1]


def token_for(base, admin, organization, scopes):
    client = request("POST", base + "/v1/clients", token=admin, body={"organization_id": organization, "scopes": scopes})
    return request("POST", base + "/oauth/token", form="grant_type=client_credentials",
                   basic=f"{client['client_id']}:{client['client_secret']}")["access_token"]


def browser_errors(driver):
    return [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]


def main():
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    receiver.daemon_threads = True
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    receiver_url = f"http://127.0.0.1:{receiver.server_address[1]}"
    Receiver.failing.set()

    data_dir = tempfile.mkdtemp(prefix="argus-portal-")
    port = free_port()
    environment = dict(os.environ, ARGUS_EXIT_ON_STDIN_EOF="1")
    serve = subprocess.Popen([arguments.binary, "serve", "--no-supervisor", "--data-dir", data_dir, "--listen", f"127.0.0.1:{port}",
                              "--allow-http", "--allow-target-cidr", "127.0.0.0/8"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             env=environment, preexec_fn=die_with_parent)
    driver = None
    try:
        text = ""
        deadline = time.monotonic() + 30
        while "client_secret" not in text and time.monotonic() < deadline:
            line = serve.stdout.readline()
            if not line:
                break
            text += line
        base = re.search(r"listening on (http://\S+)", text).group(1)
        admin_id = re.search(r"client_id:\s+(\S+)", text).group(1)
        admin_secret = re.search(r"client_secret:\s+(\S+)", text).group(1)
        admin = request("POST", base + "/oauth/token", form="grant_type=client_credentials", basic=f"{admin_id}:{admin_secret}")["access_token"]
        scopes = ["events:publish", "events:read", "webhooks:read", "webhooks:write"]
        token_a = token_for(base, admin, "acme", scopes)
        token_b = token_for(base, admin, "globex", scopes)
        hook_a = request("POST", base + "/v1/webhooks", token=token_a, body={
            "url": receiver_url + "/acme/siem", "event_types": ["user.*", "webhook.test"], "description": "SIEM ingest (production)",
            "retry": {"max_retries": 0}})
        closed = free_port()  # nothing listens there: attempts get no answer, only an error
        hook_a2 = request("POST", base + "/v1/webhooks", token=token_a, body={
            "url": f"http://127.0.0.1:{closed}/acme/audit", "event_types": ["security.*"], "description": "Audit archive",
            "retry": {"max_retries": 0}})
        hook_b = request("POST", base + "/v1/webhooks", token=token_b, body={
            "url": receiver_url + "/globex/private", "event_types": ["user.*"], "description": "GLOBEX-ONLY"})
        request("POST", base + "/v1/events", token=token_a, body={"type": "user.login", "data": {"user": "ada", "note": "<b>bold?</b>"}})
        request("POST", base + "/v1/events", token=token_a, body={"type": "security.account_locked", "data": {"user": "ada"}})
        request("POST", base + "/v1/events", token=token_b, body={"type": "user.login", "data": {"user": "bob"}})

        def failed_delivery(hook):
            page = request("GET", base + f"/v1/webhooks/{hook['id']}/deliveries?status=failed", token=token_a)["data"]
            return page[0] if page else None
        failed_a = wait_for("the delivery to the failing receiver to fail", lambda: failed_delivery(hook_a))
        wait_for("the delivery to the closed port to fail", lambda: failed_delivery(hook_a2))
        # Successful deliveries next to the failure: the chart has both, and the list has two pages (20 a page).
        Receiver.failing.clear()
        request("POST", base + "/v1/events/batch", token=token_a,
                body={"events": [{"type": "user.logout", "data": {"n": number}} for number in range(SUCCEEDED)]})
        wait_for(f"{SUCCEEDED} successful deliveries",
                 lambda: sum(1 for r in Receiver.requests if r["path"] == "/acme/siem" and not r["failed"]) >= SUCCEEDED)
        Receiver.failing.set()
        wait_for(f"the history to count the {SUCCEEDED + 1} attempts",
                 lambda: request("GET", base + f"/v1/webhooks/{hook_a['id']}/stats", token=token_a)["attempts"] >= SUCCEEDED + 1)

        session = request("POST", base + "/v1/portal/sessions", token=token_a, body={"read_only": False, "expires_in": 900})
        check(session["url"].startswith(base + "/portal#token="), "the session URL carries the token in the fragment")

        options = webdriver.ChromeOptions()
        options.binary_location = arguments.chromium
        for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,800",
                     "--no-first-run", "--disable-extensions", "--disable-background-networking", "--disable-sync",
                     "--disable-component-update", "--disable-default-apps", "--lang=en-US"]:
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(executable_path=arguments.chromedriver), options=options)
        driver.set_page_load_timeout(30)
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
        wait = WebDriverWait(driver, 20)

        driver.get(session["url"])
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#webhooks .webhook")) == 2)
        body_text = driver.find_element(By.TAG_NAME, "body").text
        check(hook_a["url"] in body_text and hook_a2["url"] in body_text, "the page lists organization A's two webhooks")
        check(hook_b["url"] not in body_text and "GLOBEX-ONLY" not in body_text and hook_b["id"] not in driver.page_source,
              "nothing of organization B's webhook is on the page")
        check("token" not in driver.current_url and "#" not in driver.current_url, "the token is gone from the address bar")
        check("acme" in driver.find_element(By.ID, "session").text and "session with actions" in driver.find_element(By.ID, "session").text,
              "the header names the organization and the session kind")
        check("enabled" in body_text and "lag" in body_text and "success rate" in body_text, "webhooks show status, lag and success rate in words")

        # The chart of the first webhook (selected by default): one bar group per hour.
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#chart svg g")) == 24)
        caption = driver.find_element(By.ID, "chart-caption").text
        check(f"{SUCCEEDED + 1} attempts, 1 failed" in caption, f"the chart counts the attempts of the last 24 h ({caption})")

        # The failed delivery's details.
        driver.find_element(By.CSS_SELECTOR, '.filter[data-status="failed"]').click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#deliveries-body tr[data-delivery]")) == 1)
        row = driver.find_element(By.CSS_SELECTOR, f'tr[data-delivery="{failed_a["id"]}"]')
        check("failed" in row.text and "HTTP 500" in row.text, "the failed delivery is listed with its status in words and its answer")
        row.find_element(By.CSS_SELECTOR, "[data-details]").click()
        details = wait.until(lambda d: d.find_element(By.ID, "details-" + failed_a["id"]))
        check(details.find_element(By.CSS_SELECTOR, ".status-code").text == "500", "the details show the status code")
        shown_body = details.find_element(By.CSS_SELECTOR, "pre.body").text
        check(shown_body == HOSTILE_BODY, "the details show the response body, as text")
        check(driver.execute_script("return document.querySelectorAll('script').length === 1 && document.querySelectorAll('img').length === 0"
                                    " && window.pwned === undefined"), "the HTML in the body was neither parsed nor run")
        check(driver.find_element(By.CSS_SELECTOR, "#details-" + failed_a["id"] + " .attempt").is_displayed(), "the attempt is shown")

        # The other webhook: an attempt that got no answer shows its error.
        driver.find_element(By.CSS_SELECTOR, f'.webhook[data-webhook="{hook_a2["id"]}"]').click()
        wait.until(lambda d: hook_a2["url"] in d.find_element(By.ID, "detail-title").text)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#deliveries-body tr[data-delivery]")) == 1)
        driver.find_element(By.CSS_SELECTOR, "#deliveries-body [data-details]").click()
        error_text = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#deliveries-body .attempt .error")).text
        code_text = driver.find_element(By.CSS_SELECTOR, "#deliveries-body .attempt .status-code").text
        check(error_text not in ("", "none") and "none" in code_text, f"an attempt without an answer shows its error ({error_text})")

        # Back to the first webhook: two pages of deliveries.
        driver.find_element(By.CSS_SELECTOR, f'.webhook[data-webhook="{hook_a["id"]}"]').click()
        wait.until(lambda d: hook_a["url"] in d.find_element(By.ID, "detail-title").text)
        rows = lambda d: d.find_elements(By.CSS_SELECTOR, "#deliveries-body tr[data-delivery]")  # noqa: E731
        wait.until(lambda d: len(rows(d)) == 20)
        check(driver.find_element(By.ID, "newer").get_attribute("disabled") is not None, "the first page has no newer page")
        driver.find_element(By.ID, "older").click()
        wait.until(lambda d: len(rows(d)) == 2 and d.find_element(By.ID, "page-label").text == "Page 2")
        check(driver.find_element(By.ID, "older").get_attribute("disabled") is not None
              and any(row.get_attribute("data-delivery") == failed_a["id"] for row in rows(driver)), "Older shows the rest: 2 deliveries")
        driver.find_element(By.ID, "newer").click()
        wait.until(lambda d: len(rows(d)) == 20 and d.find_element(By.ID, "page-label").text == "Page 1")
        check(True, "Newer goes back to the first page")
        check(driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"), "no horizontal overflow at 1280x800")

        # The failed deliveries, the first one open: the screenshot.
        driver.find_element(By.CSS_SELECTOR, '.filter[data-status="failed"]').click()
        wait.until(lambda d: len(rows(d)) == 1)
        driver.find_element(By.CSS_SELECTOR, f'tr[data-delivery="{failed_a["id"]}"] [data-details]').click()
        wait.until(lambda d: d.find_elements(By.ID, "details-" + failed_a["id"]))
        os.makedirs(os.path.dirname(os.path.abspath(arguments.screenshot)), exist_ok=True)
        driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
        check(driver.save_screenshot(arguments.screenshot), f"screenshot at 1280x800 saved to {arguments.screenshot}")

        # Keyboard: Tab reaches the webhooks, the filters, Retry and the actions; all of them are real buttons.
        reached = []
        active = driver.switch_to.active_element
        for _ in range(80):
            active.send_keys(Keys.TAB)
            active = driver.switch_to.active_element
            reached.append(driver.execute_script(
                "const e = document.activeElement; return e.tagName + '|' + (e.className || '') + '|' + (e.textContent || '').trim().slice(0, 30)"))
        tags = {entry.split("|")[0] for entry in reached}
        check(any("|webhook|" in entry for entry in reached) and any("filter" in entry for entry in reached)
              and any(entry.endswith("|Retry") for entry in reached) and any("Rotate" in entry for entry in reached),
              "Tab reaches the webhooks, the filters, Retry and the webhook actions")
        check(tags <= {"A", "BUTTON", "INPUT", "BODY", "H2", "MAIN"}, f"only links, buttons and inputs take focus ({sorted(tags)})")
        check(driver.execute_script("return [...document.querySelectorAll('[onclick], div[tabindex], span[tabindex]')].length === 0"),
              "no clickable divs or spans")

        # Retry: the receiver now succeeds and gets the new attempt; the page shows the delivery succeeded.
        Receiver.failing.clear()

        def requests_for(predicate):
            with Receiver.lock:
                return [r for r in Receiver.requests if predicate(r)]
        before = len(requests_for(lambda r: r["webhook_id"] == failed_a["id"]))
        driver.find_element(By.CSS_SELECTOR, f'tr[data-delivery="{failed_a["id"]}"] [data-retry]').click()
        wait_for("the receiver to get the retried attempt", lambda: len(requests_for(lambda r: r["webhook_id"] == failed_a["id"])) > before)
        check(True, "Retry sent an attempt that the receiver got")
        check("Retry of delivery" in driver.find_element(By.ID, "notice").text, "the page says the retry started")
        driver.find_element(By.CSS_SELECTOR, '.filter[data-status=""]').click()
        wait.until(lambda d: len(rows(d)) == 20)
        driver.find_element(By.ID, "older").click()
        try:
            WebDriverWait(driver, 20, ignored_exceptions=[StaleElementReferenceException, NoSuchElementException]).until(
                lambda d: "succeeded" in d.find_element(By.CSS_SELECTOR, f'tr[data-delivery="{failed_a["id"]}"]').text)
            check(True, "the page shows the retried delivery succeeded")
        except TimeoutException:
            check(False, "the page shows the retried delivery succeeded")

        # The webhook actions.
        driver.find_element(By.ID, "send-test").click()
        wait_for("the receiver to get the test event", lambda: requests_for(lambda r: b'"webhook.test"' in r["body"]))
        # The delivery can reach the receiver before the page has handled the API's answer: wait for the notice.
        try:
            wait.until(lambda d: "Test event" in d.find_element(By.ID, "notice").text)
            check(True, "Send a test event: the receiver gets webhook.test")
        except TimeoutException:
            check(False, "Send a test event: the receiver gets webhook.test")

        driver.find_element(By.ID, "toggle").click()
        wait.until(lambda d: d.find_element(By.ID, "toggle").text == "Enable the webhook")
        check(request("GET", base + f"/v1/webhooks/{hook_a['id']}", token=token_a)["status"] == "disabled"
              and "disabled" in driver.find_element(By.CSS_SELECTOR, f'.webhook[data-webhook="{hook_a["id"]}"]').text,
              "Pause disables the webhook and the list says so")
        driver.find_element(By.ID, "toggle").click()
        wait.until(lambda d: d.find_element(By.ID, "toggle").text.startswith("Pause"))
        check(request("GET", base + f"/v1/webhooks/{hook_a['id']}", token=token_a)["status"] == "enabled", "Enable enables it again")

        driver.find_element(By.ID, "rotate").click()
        driver.find_element(By.ID, "rotate-yes").click()
        secret = wait.until(lambda d: d.find_element(By.ID, "secret-value").text if d.find_element(By.ID, "secret-box").is_displayed() else None)
        check(secret.startswith("whsec_") and secret != hook_a["secret"], "Rotate shows the new secret once")
        driver.find_element(By.ID, "secret-hide").click()
        check(driver.find_element(By.ID, "secret-value").get_attribute("textContent") == "", "hiding the secret removes it from the page")

        delivered = len(requests_for(lambda r: r["path"] == "/acme/siem"))
        driver.find_element(By.CSS_SELECTOR, "#replay-form button[type=submit]").click()
        wait.until(lambda d: "Replaying" in d.find_element(By.ID, "notice").text)
        wait_for("the replayed deliveries", lambda: len(requests_for(lambda r: r["path"] == "/acme/siem")) >= delivered + SUCCEEDED + 1)
        check(True, "Replay since an hour ago delivers the webhook's events again")

        # Phone width: one column, nothing wider than the screen.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 375, "height": 812, "deviceScaleFactor": 2, "mobile": True})
        driver.execute_script("window.dispatchEvent(new Event('resize'))")
        time.sleep(0.3)  # layout after the viewport change (no event tells Selenium it is done)
        overflow = driver.execute_script(
            "const w = document.documentElement.clientWidth;"
            "return [...document.querySelectorAll('body *')].filter(e => e.getClientRects().length && e.getBoundingClientRect().right > w + 1)"
            ".map(e => e.tagName + '.' + e.className).slice(0, 5)")
        check(driver.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth") and not overflow,
              f"no horizontal overflow at 375 px ({overflow})")
        if arguments.phone_screenshot:
            driver.save_screenshot(arguments.phone_screenshot)
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

        # A read-only link: the same webhooks, no actions.
        read_only = request("POST", base + "/v1/portal/sessions", token=token_a, body={"read_only": True})
        driver.get(read_only["url"])
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#webhooks .webhook")) == 2 and "read-only" in d.find_element(By.ID, "session").text)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#deliveries-body tr[data-delivery]")) >= 1)
        check(not driver.find_element(By.ID, "actions").is_displayed() and not driver.find_elements(By.CSS_SELECTOR, "[data-retry]"),
              "a read-only session shows no actions")

        errors = browser_errors(driver)
        check(not errors, f"no errors in the browser log ({errors[:3]})")
    except Exception as error:  # noqa: BLE001
        failures.append(f"{type(error).__name__}: {error}")
        print(f"FAIL  {type(error).__name__}: {error}", flush=True)
        if driver is not None:
            try:
                print("browser log:", browser_errors(driver), flush=True)
            except Exception:  # noqa: BLE001
                pass
    finally:
        if driver is not None:
            driver.quit()
        serve.stdin.close()
        try:
            serve.wait(timeout=15)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait()
        receiver.shutdown()
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"portal_browser: {passed} passed, {len(failures)} failed", flush=True)
    return 1 if failures else 0


signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
sys.exit(main())
