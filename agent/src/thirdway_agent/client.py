"""Talking to the server (docs/agent-protocol.md): a bearer secret, JSON both ways, and the
server's answers turned into what the agent does next."""

from __future__ import annotations

import datetime as dt

import httpx

from thirdway_agent import __version__


class Unreachable(Exception):
    """No answer (or a 5xx): keep the results and try later."""


class Unauthorized(Exception):
    """401: the secret is unknown, revoked or expired; enrol again."""


class SlowDown(Exception):
    """429: wait ``retry_after`` seconds before calling again."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class Refused(Exception):
    """4xx other than 401/429: the request itself is wrong; retrying will not help."""


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(1.0, min(float(response.headers.get("retry-after", "30")), 3600.0))
    except ValueError:
        return 30.0


class Server:
    def __init__(self, url: str, secret: str = "", timeout: float = 15.0) -> None:
        headers = {"User-Agent": f"thirdway-agent/{__version__}"}
        if secret:
            headers["Authorization"] = f"Bearer {secret}"
        self.http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def post(self, path: str, body: dict) -> dict:
        try:
            response = self.http.post(f"/api/v1/monitoring/agent/{path}", json=body)
        except httpx.HTTPError as error:
            raise Unreachable(str(error)) from error
        if response.status_code == 401:
            raise Unauthorized()
        if response.status_code == 429:
            raise SlowDown(_retry_after(response))
        if response.status_code >= 500:
            raise Unreachable(f"server error {response.status_code}")
        if response.status_code >= 400:
            raise Refused(f"{response.status_code}: {response.text[:500]}")
        return response.json()

    def enrol(self, token: str, inventory: dict) -> dict:
        return self.post(
            "enrol",
            {
                "token": token,
                "hostname": inventory["hostname"],
                "os_name": inventory["os_name"],
                "os_version": inventory["os_version"],
                "agent_version": __version__,
            },
        )

    def heartbeat(self, etag: str, buffered: int, dropped: int) -> dict:
        return self.post(
            "heartbeat",
            {
                "sent_at": dt.datetime.now(dt.UTC).isoformat(),
                "etag": etag,
                "agent_version": __version__,
                "buffered": buffered,
                "dropped": dropped,
            },
        )

    def results(self, batch_id: str, results: list[dict]) -> dict:
        sent = dt.datetime.now(dt.UTC).isoformat()
        return self.post("results", {"batch_id": batch_id, "sent_at": sent, "results": results})

    def inventory(self, inventory: dict) -> dict:
        return self.post("inventory", inventory)
