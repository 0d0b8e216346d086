"""What the CI scripts (.ci/*.py) share to talk to an infobank server: building a request the
way the API wants it, decoding an answer, and a free port. Standard library only.
"""
import base64
import json
import socket
import urllib.request


def request(base, method, path, token=None, body=None, form=None, basic=None):
    """A request with a JSON body (`body`), a form (`form`, already encoded), a bearer token or
    HTTP Basic credentials (`basic` = "id:secret")."""
    headers = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if form is not None:
        data = form.encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(basic.encode()).decode()
    return urllib.request.Request(base + path, data=data, method=method, headers=headers)


def decode(raw):
    """A response body: JSON when it is JSON, text otherwise."""
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return raw.decode(errors="replace")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
