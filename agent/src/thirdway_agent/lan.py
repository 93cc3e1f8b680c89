"""Checks of devices on the client's network, run from the machine the agent is on: ping, a
TCP port, and an HTTP(S) request with the expiry of the server's TLS certificate.

These reach private addresses on purpose (a printer, a switch, the NAS): the machine is on the
client's network, the server is not.  Each returns what it saw as a result's ``value``,
``status`` and ``output``; the server applies the check's thresholds to the value.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import socket
import ssl
import subprocess
import time

import httpx

MAX_BODY = 64 * 1024
USER_AGENT = "Thirdway-Agent/1"
# Ports tried, in order, when the machine has no ping binary: an answer of any kind (even a
# refused connection) shows that the host is up.
FALLBACK_PORTS = (443, 80, 22)
_RTT = re.compile(r"time[=<]\s*([0-9.]+)\s*ms")


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def ping(host: str, timeout: float) -> dict:
    """ICMP echo through the system's ``ping`` binary when there is one; otherwise a TCP
    connection attempt to a few common ports.  The value is the round trip in ms; the output
    says which method answered."""
    binary = shutil.which("ping")
    if binary is not None:
        return _icmp(binary, host, timeout)
    return _tcp_ping(host, timeout)


def _icmp(binary: str, host: str, timeout: float) -> dict:
    wait = str(max(1, int(timeout)))
    try:
        done = subprocess.run(  # noqa: S603 - a fixed binary; the host follows "--"
            [binary, "-n", "-c", "1", "-W", wait, "--", host],
            capture_output=True,
            timeout=timeout + 2,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return {"value": None, "status": "critical", "output": f"ICMP: no answer from {host}."}
    text = done.stdout.decode("utf-8", "replace")
    found = _RTT.search(text)
    if done.returncode == 0 and found:
        rtt = float(found.group(1))
        return {"value": rtt, "status": "ok", "output": f"ICMP: {host} answered in {rtt:g} ms."}
    if done.returncode == 1:
        return {"value": None, "status": "critical", "output": f"ICMP: no answer from {host}."}
    problem = (done.stderr.decode("utf-8", "replace").strip() or text.strip())[:300]
    return {"value": None, "status": "unknown", "output": f"ICMP: ping failed: {problem}"}


def _tcp_ping(host: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    for port in FALLBACK_PORTS:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        started = time.monotonic()
        try:
            socket.create_connection((host, port), timeout=left).close()
        except ConnectionRefusedError:
            pass  # the host answered with a refusal: it is up
        except socket.gaierror as error:
            return {"value": None, "status": "unknown", "output": f"TCP: {host}: {error}"[:500]}
        except OSError:
            continue
        rtt = _ms(started)
        text = f"TCP (no ping binary): {host} answered on port {port} in {rtt:g} ms."
        return {"value": rtt, "status": "ok", "output": text}
    return {"value": None, "status": "critical", "output": f"TCP (no ping binary): {host} silent."}


def tcp(host: str, port: int, timeout: float) -> dict:
    """Open a TCP connection to ``host:port`` and close it; the value is the time in ms."""
    started = time.monotonic()
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except TimeoutError:
        text = f"No connection to {host}:{port} within {timeout:g} s."
        return {"value": None, "status": "critical", "output": text}
    except socket.gaierror as error:
        return {"value": None, "status": "unknown", "output": f"{host}: {error}"[:500]}
    except OSError as error:
        text = f"{host}:{port} refused the connection: {error}"
        return {"value": None, "status": "critical", "output": text[:500]}
    rtt = _ms(started)
    return {"value": rtt, "status": "ok", "output": f"Port {port} open on {host} ({rtt:g} ms)."}


def _not_after(der: bytes) -> dt.datetime:
    """The end of a certificate's validity, read from its DER form without trusting it (the
    agent has no ASN.1 library: the validity is the fifth field of the TBSCertificate)."""
    certificate = _children(_children(der)[0][1])  # TBSCertificate, algorithm, signature
    tbs = _children(certificate[0][1])
    fields = tbs if tbs[0][0] != 0xA0 else tbs[1:]  # skip the explicit version
    validity = _children(fields[3][1])
    tag, raw = validity[1]
    text = raw.decode("ascii")
    if tag == 0x17:  # UTCTime: YYMMDDHHMMSSZ
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    return dt.datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=dt.UTC)


def _children(data: bytes) -> list[tuple[int, bytes]]:
    """The DER elements inside ``data``, as (tag, contents)."""
    found, at = [], 0
    while at < len(data):
        tag, length = data[at], data[at + 1]
        at += 2
        if length & 0x80:
            size = length & 0x7F
            length = int.from_bytes(data[at : at + size], "big")
            at += size
        found.append((tag, data[at : at + length]))
        at += length
    return found


def certificate_days(host: str, port: int, timeout: float) -> tuple[float, bytes]:
    """Days left on the server's certificate, read in binary form over an unverified
    connection (so an expired or self-signed certificate is still read), and the DER."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((host, port), timeout=timeout) as raw,
        context.wrap_socket(raw, server_hostname=host) as secured,
    ):
        der = secured.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError("the server sent no certificate")
    left = (_not_after(der) - dt.datetime.now(dt.UTC)).total_seconds() / 86_400
    return round(left, 2), der


def http(url: str, *, expected_status: int, body_contains: str, timeout: float) -> dict:
    """GET ``url`` (no redirect followed, the certificate not verified: a device's self-signed
    one is the rule on a LAN).  Down when the status or the body is not the expected one; for
    https the value is the days left on the certificate (the server's thresholds apply)."""
    parsed = httpx.URL(url)
    days: float | None = None
    note = ""
    if parsed.scheme == "https":
        try:
            days, _ = certificate_days(parsed.host, parsed.port or 443, timeout)
        except (OSError, ssl.SSLError, ValueError, IndexError) as error:
            text = f"TLS: could not read the certificate: {error}"
            return {"value": None, "status": "critical", "output": text[:500]}
        note = f"; certificate expired {-days:g} days ago" if days < 0 else f"; {days:g} days left"
    # Not verified on purpose: LAN devices have self-signed certificates (read above).
    unverified = {"verify": False, "timeout": timeout, "follow_redirects": False}
    started = time.monotonic()
    try:
        with (
            httpx.Client(**unverified) as client,
            client.stream("GET", url, headers={"User-Agent": USER_AGENT}) as response,
        ):
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= MAX_BODY:
                    break
            code = response.status_code
    except httpx.TimeoutException:
        text = f"No answer within {timeout:g} s."
        return {"value": days, "status": "critical", "output": text}
    except httpx.HTTPError as error:
        text = f"Could not connect: {error}"
        return {"value": days, "status": "critical", "output": text[:500]}
    took = _ms(started)
    if code != expected_status:
        text = f"HTTP {code}, expected {expected_status}{note}."
        return {"value": days, "status": "critical", "output": text[:500]}
    if body_contains and body_contains.encode() not in bytes(body):
        text = f"HTTP {code}, but the body does not contain {body_contains!r}{note}."
        return {"value": days, "status": "critical", "output": text[:500]}
    return {"value": days, "status": "ok", "output": f"HTTP {code} in {took:g} ms{note}."[:500]}
