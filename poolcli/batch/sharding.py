"""Shards: a deterministic split of a batch, so N independent runs share it out.

``poolcli pool --shard I/N`` keeps the inputs whose **shard key** hashes to ``I``
(0-based, ``0 <= I < N``). N runs with the same inputs and ``I = 0 .. N-1`` (a Slurm
job array, a Kubernetes indexed Job, N terminals) pool every input exactly once,
without talking to each other.

The shard key of an input is the path its output mirrors under ``-o DIR``
(:attr:`.discovery.Input.relative`), with ``/`` between parts:

- found in a directory argument: its path under that directory, without the
  directory itself (``-r /mnt/photos`` and ``-r ../photos`` both give ``2024/a.jpg``);
- named on the command line: its name (``poolcli pool a/x.png`` gives ``x.png``);
- read from ``--files-from``: the relative path as listed, normalised, or the name
  when the entry is absolute or leads outside (``../x.png``, ``/data/x.png``);
- an argument that cannot be an input (a directory without ``-r``): the argument.

So a file's shard does not depend on where the input tree is mounted, on the
current directory, on the order or number of the other inputs, on the machine, or
on the Python version: the key's bytes (UTF-8, undecodable bytes kept as they are)
go through SHA-256, and the first 8 bytes of the digest, as a big-endian number,
modulo N give the shard. Two inputs with one key (which could only both be pooled
with ``-o FILE``) land in the same shard.

Sharding runs after planning (every check sees the whole batch, and every run
names outputs the same way) and before any work; a sharded :class:`~.planning.Plan`
holds only the shard's share, numbered from 0, so reports count that share alone.

Only the standard library is imported: the command line parses ``--shard`` with
:class:`Shard` before NumPy loads.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..errors import ParameterError

if TYPE_CHECKING:
    from .planning import Plan


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based): ``Shard(0, 4)`` is the first of four.

    Raises :class:`ParameterError` unless ``count >= 1`` and ``0 <= index < count``.
    """

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            message = f"shard count {self.count} must be at least 1"
            raise ParameterError(message)
        if not 0 <= self.index < self.count:
            message = (
                f"shard index {self.index} is out of range: with {self.count} shards it is "
                f"0 to {self.count - 1} (0-based)"
            )
            raise ParameterError(message)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, key: str) -> bool:
        """True when the input with shard key ``key`` belongs to this shard."""
        return shard_of(key, self.count) == self.index


def shard_of(key: str, count: int) -> int:
    """The shard (0 to ``count - 1``) of shard key ``key``; the same everywhere, always.

    >>> shard_of("2024/a.jpg", 4)
    3
    """
    from hashlib import sha256  # OpenSSL loads here, not when the command line starts

    data = key.encode("utf-8", "surrogateescape")
    return int.from_bytes(sha256(data).digest()[:8], "big") % count


def select(plan: Plan, shard: Shard) -> Plan:
    """The part of ``plan`` in ``shard``: its jobs and problems, renumbered from 0 in
    the plan's order (reports stay in input order)."""
    chosen = [index for index, key in enumerate(plan.keys) if shard.owns(key)]
    number = {old: new for new, old in enumerate(chosen)}
    return type(plan)(
        jobs=[replace(job, index=number[job.index]) for job in plan.jobs if job.index in number],
        problems=[replace(p, index=number[p.index]) for p in plan.problems if p.index in number],
        sources=[plan.sources[index] for index in chosen],
        targets={number[i]: target for i, target in plan.targets.items() if i in number},
        keys=[plan.keys[index] for index in chosen],
    )
