"""The client's real address behind trusted reverse proxies (nginx in ``deploy/``).

A request that arrives from an address in ``XIANGCHUANG_TRUSTED_PROXIES`` may name the client in
``X-Forwarded-For``; the header is read from the right (the entries the proxies appended) and the first
address that is not itself a trusted proxy is the client. A request from any other peer is taken at its
socket address and its ``X-Forwarded-For`` is ignored, so a client cannot pick its own rate-limit bucket
by sending the header. Malformed entries end the walk (the last trusted hop's view is used).
"""

from __future__ import annotations

import ipaddress
from functools import cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def parse_trusted(spec: str) -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/24, ::1"`` → networks. A bad entry raises ValueError naming it."""
    networks: list[Network] = []
    for part in spec.replace(";", ",").split(","):
        item = part.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"XIANGCHUANG_TRUSTED_PROXIES 中的 {item!r} 不是有效的 IP 地址或网段（如 127.0.0.1 或 10.0.0.0/24）"
            ) from None
    return tuple(networks)


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(addr: ipaddress.IPv4Address | ipaddress.IPv6Address, nets: tuple[Network, ...]) -> bool:
    return any(addr in n for n in nets)


def real_client(peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """The client address for ``peer`` (the socket's remote address) and its ``X-Forwarded-For``."""
    if not peer:
        return "unknown"
    peer_ip = _ip(peer)
    if peer_ip is None or not trusted or not _trusted(peer_ip, trusted) or not forwarded_for:
        return peer
    client = peer_ip
    for hop in reversed(forwarded_for.split(",")):
        addr = _ip(hop)
        if addr is None:
            break
        client = addr
        if not _trusted(addr, trusted):
            break
    return str(client)
