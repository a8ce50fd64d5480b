"""Download a document from a URL without letting the URL reach inside the network.

>>> fetched = fetch_url("https://files.example.com/cheque.pdf", load_web_config())
>>> fetched.name, len(fetched.data)
('cheque.pdf', 180730)

Only ``http`` and ``https``. The host is resolved here and every address it resolves to must
be a public one: loopback, private, link-local (cloud metadata), shared, reserved and
multicast ranges are refused unless ``allow_private_urls`` or the ``host:port`` is listed in
``url_allow_hosts``. The connection then goes to the address that was checked (the Host
header and TLS name stay the original host), so a DNS answer that changes between the check
and the request cannot redirect it. Redirects are followed by hand, each hop checked again,
at most ``url_max_redirects``. The body is streamed and cut at ``url_max_bytes``; no proxy
from the environment is used (it would connect on our behalf, unchecked).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import SplitResult, unquote, urljoin, urlsplit, urlunsplit

import httpx

from hdr.errors import InputError, ReasonCode
from web.config import WebConfig

REDIRECTS = {301, 302, 303, 307, 308}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``address``) and what to call the host."""

    url: str
    parts: SplitResult
    host: str
    port: int
    address: str


@dataclass(frozen=True)
class FetchedFile:
    name: str  # the last part of the final URL's path, for people; never used as a path
    data: bytes
    url: str  # after redirects


def _refused(message: str, hint: str | None = None) -> InputError:
    return InputError(ReasonCode.URL_REFUSED, message, hint=hint)


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _allowed_anywhere(host: str, port: int, cfg: WebConfig) -> bool:
    if cfg.allow_private_urls:
        return True
    listed = {h.strip().lower() for h in cfg.url_allow_hosts}
    return f"{host}:{port}" in listed or host in listed


def check_url(url: str, cfg: WebConfig) -> Target:
    """Parse, resolve and check one URL; :class:`InputError` (``url_refused``) when refused."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as err:
        raise _refused(f"{url!r} is not a valid URL") from err
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise _refused(
            f"only http and https URLs can be fetched, not {scheme or 'a relative URL'!r}",
            hint="give a link that starts with https://",
        )
    if parts.username or parts.password:
        raise _refused("a URL with a user name or password in it is refused")
    host = (parts.hostname or "").lower()
    if not host:
        raise _refused(f"{url!r} names no host")
    port = port or _DEFAULT_PORTS[scheme]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise InputError(ReasonCode.READ_FAILED, f"cannot resolve the host {host!r}") from err
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise InputError(ReasonCode.READ_FAILED, f"the host {host!r} has no address")
    if not _allowed_anywhere(host, port, cfg):
        inside = [a for a in addresses if not _is_public(a)]
        if inside:
            raise _refused(
                f"{host} resolves to {inside[0]}, an address inside a private, loopback or "
                "reserved network",
                hint="only public addresses can be fetched (web.allow_private_urls)",
            )
    return Target(
        url=urlunsplit(parts._replace(scheme=scheme)),
        parts=parts,
        host=host,
        port=port,
        address=addresses[0],
    )


def _pinned(target: Target) -> tuple[str, dict[str, str], dict[str, object]]:
    """The URL with the checked address as its host, the Host header and the TLS name."""
    ip = ipaddress.ip_address(target.address.split("%", 1)[0])
    scheme = target.parts.scheme.lower()
    port = "" if target.port == _DEFAULT_PORTS[scheme] else f":{target.port}"
    netloc = (f"[{ip}]" if ip.version == 6 else str(ip)) + port
    host = f"[{target.host}]" if ":" in target.host else target.host
    url = urlunsplit((scheme, netloc, target.parts.path or "/", target.parts.query, ""))
    extensions: dict[str, object] = {"sni_hostname": target.host} if scheme == "https" else {}
    return url, {"Host": host + port}, extensions


def _name_of(url: str) -> str:
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    return name[:200] or "download"


def fetch_url(
    url: str, cfg: WebConfig, transport: httpx.BaseTransport | None = None
) -> FetchedFile:
    """The bytes at ``url`` (see the module docstring for what is refused)."""
    current = url
    timeout = httpx.Timeout(cfg.url_timeout_s)
    headers = {"User-Agent": "hdr-review/0.1", "Accept": "application/pdf,image/*;q=0.9"}
    with httpx.Client(
        timeout=timeout, follow_redirects=False, trust_env=False, transport=transport
    ) as client:
        for _hop in range(cfg.url_max_redirects + 1):
            target = check_url(current, cfg)
            pinned_url, host_header, extensions = _pinned(target)
            try:
                with client.stream(
                    "GET",
                    pinned_url,
                    headers={**headers, **host_header},
                    extensions=extensions,
                ) as response:
                    if response.status_code in REDIRECTS:
                        location = response.headers.get("location")
                        if not location:
                            raise InputError(
                                ReasonCode.READ_FAILED, f"{current}: a redirect without a target"
                            )
                        current = urljoin(target.url, location)
                        continue
                    if response.status_code != 200:
                        raise InputError(
                            ReasonCode.READ_FAILED,
                            f"{current}: the server answered HTTP {response.status_code}",
                        )
                    data = _read_capped(response, cfg.url_max_bytes, current)
                    return FetchedFile(name=_name_of(target.url), data=data, url=target.url)
            except httpx.TimeoutException as err:
                raise InputError(
                    ReasonCode.READ_FAILED,
                    f"{current}: no answer within {cfg.url_timeout_s:g} s",
                ) from err
            except httpx.HTTPError as err:
                raise InputError(
                    ReasonCode.READ_FAILED, f"{current}: cannot download it: {err}"
                ) from err
    raise _refused(f"{url}: more than {cfg.url_max_redirects} redirects")


def _read_capped(response: httpx.Response, limit: int, url: str) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise InputError(
            ReasonCode.FILE_TOO_LARGE,
            f"{url}: {int(declared)} bytes, more than the {limit} allowed",
        )
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise InputError(
                ReasonCode.FILE_TOO_LARGE, f"{url}: more than the {limit} bytes allowed"
            )
        chunks.append(chunk)
    return b"".join(chunks)
