"""Test images built on this machine: no registry is reachable, so nothing is pulled.

The busybox image is a root filesystem holding Debian's static busybox (package
busybox-static, installed by bin/docker-up) and a symlink per applet, imported as a
one-layer image. It has sh, cat, echo, sleep, ls, wc, id, env, ip, nc, ... and nothing else.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import docker
from docker.errors import ImageNotFound

BUSYBOX = Path("/bin/busybox")


def build_busybox_image(client: docker.DockerClient, tag: str = "scale-test/busybox:1") -> str:
    """The id of image `tag`, importing it first when the daemon does not have it (so a
    test run builds it once, and later runs reuse it). Raises RuntimeError when the static
    busybox is missing: a dynamically linked one would not run in an empty filesystem."""
    try:
        return client.images.get(tag).id
    except ImageNotFound:
        pass
    installed = subprocess.run(["dpkg-query", "-W", "busybox-static"], capture_output=True, check=False)
    if installed.returncode != 0 or not BUSYBOX.is_file():
        raise RuntimeError("busybox-static is not installed: run bin/docker-up")
    repository, _, version = tag.partition(":")
    client.api.import_image_from_data(
        _rootfs_tar(),
        repository=repository,
        tag=version or "latest",
        changes=["ENV PATH=/bin", 'CMD ["sh"]'],
    )
    return client.images.get(tag).id


def _rootfs_tar() -> bytes:
    applets = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True).stdout.split()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for directory, mode in (("bin", 0o755), ("tmp", 0o1777), ("etc", 0o755)):
            entry = tarfile.TarInfo(directory)
            entry.type, entry.mode = tarfile.DIRTYPE, mode
            tar.addfile(entry)
        tar.add(str(BUSYBOX), arcname="bin/busybox")
        for applet in applets:
            if applet == "busybox":
                continue
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
    return buffer.getvalue()
