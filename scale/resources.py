"""Resources a node offers and a job asks for: cpus, memory and disk, used by the queue, the
nodes, matching and the resource managers alike."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Resources:
    """cpus, mem MiB, disk MiB."""

    cpus: float = 0.0
    mem: float = 0.0
    disk: float = 0.0

    def fits_in(self, other: Resources) -> bool:
        """True if these resources fit within `other`."""
        return self.cpus <= other.cpus and self.mem <= other.mem and self.disk <= other.disk

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.cpus + other.cpus, self.mem + other.mem, self.disk + other.disk)

    def __sub__(self, other: Resources) -> Resources:
        return Resources(self.cpus - other.cpus, self.mem - other.mem, self.disk - other.disk)

    def to_dict(self) -> dict[str, float]:
        return {"cpus": float(self.cpus), "mem": float(self.mem), "disk": float(self.disk)}
