"""One JSON request to an Argus Events server, for the test tools in this directory (standard library only)."""
import base64, json, urllib.request


def request(method, url, token=None, body=None, form=None, basic=None):
    """Sends `body` as JSON or `form` as a form, with a bearer `token` or `basic` ("id:secret") client
    authentication; returns (status, parsed JSON or None). Raises urllib.error.HTTPError for 4xx/5xx."""
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
