"""Which hosts and peers are this machine, and whether a port can be listened on.

One definition for the hub (who needs a token), the simulator (who may use ``/sim``)
and the bot's start-up checks (which exchange is beyond this machine, is the port free).
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket


def is_loopback_host(host: str) -> bool:
    """True for names only this machine can reach (``localhost``, 127.0.0.0/8, ::1).

    Any other name may resolve anywhere, so it counts as beyond this machine.
    """
    name = host.strip().lower()
    if name == "localhost":
        return True
    return is_loopback_address(name.strip("[]"))


def is_loopback_address(address: str | None) -> bool:
    """True for a loopback IP address (an IPv4-mapped IPv6 one included)."""
    if not address:
        return False
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(parsed, "ipv4_mapped", None)
    return bool(parsed.is_loopback or (mapped is not None and mapped.is_loopback))


def port_problem(host: str, port: int) -> str | None:
    """Why nothing could listen on ``host:port`` now (None: it could), e.g. another program.

    Binds and lets go at once, with the same ``SO_REUSEADDR`` the servers use, so a port
    in TIME_WAIT after a restart counts as free.
    """
    if port == 0:
        return None
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        return f"cannot resolve {host}: {exc.strerror}"
    for family, kind, proto, _, address in infos:
        with contextlib.closing(socket.socket(family, kind, proto)) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return "in use"
                return exc.strerror or str(exc)
    return None
