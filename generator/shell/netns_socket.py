"""A TCP connection made from inside another network namespace.

The virtual nodes sit on a bridge in a namespace of their own (see generator/hosts/nodes.py), so
that none of their links or routes show in this machine's listings. setns() moves only the calling
thread, so a short-lived thread enters that namespace, connects, and ends; the socket stays in
the namespace it was made in, and paramiko uses it from any thread.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading

CLONE_NEWNET = 0x40000000


def _setns(fd: int) -> None:
    if hasattr(os, "setns"):  # Python 3.12+
        os.setns(fd, CLONE_NEWNET)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


def connect_in(netns: str, address: tuple[str, int], timeout: float) -> socket.socket:
    """A socket connected to address from inside the namespace at path netns; connecting raises
    what socket.create_connection raises, and a namespace that cannot be entered an OSError."""
    outcome: list[socket.socket | BaseException] = []

    def enter_and_connect() -> None:
        try:
            fd = os.open(netns, os.O_RDONLY)
            try:
                _setns(fd)
            finally:
                os.close(fd)
            outcome.append(socket.create_connection(address, timeout=timeout))
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            outcome.append(exc)

    worker = threading.Thread(target=enter_and_connect, name=f"connect in {netns}", daemon=True)
    worker.start()
    worker.join()
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result
