"""A network namespace joined to this one by a veth pair: another "host" for a test, reached
only over that link. Needs `ip` (iproute2) and CAP_SYS_ADMIN; `create()` raises Unavailable
where namespaces cannot be made, so a test can skip with the reason."""

from __future__ import annotations

import subprocess


class Unavailable(Exception):
    """This machine cannot make network namespaces (no `ip`, or no CAP_SYS_ADMIN)."""


class LinkedNamespace:
    """Namespace `name` with address `node_address` on its end of a veth pair, and `head_address`
    on this namespace's end (the link `head_link`); both addresses in one /30."""

    def __init__(self, name: str, *, head_address: str, node_address: str, prefix_length: int = 30) -> None:
        self.name = name
        self.head_address = head_address
        self.node_address = node_address
        self._prefix_length = prefix_length
        # Interface names are at most 15 characters.
        self.head_link = f"{name[:12]}-h"
        self.node_link = f"{name[:12]}-n"

    def exec_prefix(self) -> list[str]:
        """What to put before a command to run it inside the namespace."""
        return ["ip", "netns", "exec", self.name]

    def create(self) -> None:
        """Make the namespace and the link, with `lo` up inside. What a run killed before its
        teardown left under these names is removed first: the names are this test's own."""
        self.remove()
        try:
            _ip("netns", "add", self.name)
        except FileNotFoundError as error:
            raise Unavailable("`ip` (Debian package iproute2) is not installed") from error
        except subprocess.CalledProcessError as error:
            if any(word in error.stderr for word in ("Operation not permitted", "Permission denied")):
                raise Unavailable(f"`ip netns add` needs CAP_SYS_ADMIN: {error.stderr.strip()}") from error
            raise
        _ip("link", "add", self.head_link, "type", "veth", "peer", "name", self.node_link, "netns", self.name)
        _ip("addr", "add", f"{self.head_address}/{self._prefix_length}", "dev", self.head_link)
        _ip("link", "set", self.head_link, "up")
        _ip("-n", self.name, "addr", "add", f"{self.node_address}/{self._prefix_length}", "dev", self.node_link)
        _ip("-n", self.name, "link", "set", self.node_link, "up")
        _ip("-n", self.name, "link", "set", "lo", "up")

    def cut(self) -> None:
        """Take the link down, as a pulled cable: packets between the two ends are dropped."""
        _ip("link", "set", self.head_link, "down")

    def restore(self) -> None:
        _ip("link", "set", self.head_link, "up")

    def remove(self) -> None:
        """Delete the namespace (its end of the link goes with it, and so does this end); a
        no-op for what does not exist."""
        for command in (("netns", "delete", self.name), ("link", "delete", self.head_link)):
            try:
                _ip(*command)
            except (FileNotFoundError, subprocess.CalledProcessError):
                pass


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=30)
