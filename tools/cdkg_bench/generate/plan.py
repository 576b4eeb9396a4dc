"""The plan of a generated graph: which synthetic entity copies which real record, and how the
copies are rewired (see :mod:`cdkg_bench.generate`)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from cdkg_bench.generate.profile import Profile


class _Copies:
    """``n`` copies of ``r`` real records: copy ``j`` is of record ``j % r``, in copy ``j // r``.

    :meth:`pick` rewires a reference to record ``i`` from copy ``k`` to copy ``π_i(k)`` of it,
    ``π_i`` a random permutation; a copy that does not exist (a partial last copy) picks any entity.
    """

    def __init__(self, r: int, n: int, rng: random.Random) -> None:
        self.r, self.n, self.rng = r, n, rng
        self._perms: dict[int, list[int]] = {}

    def pick(self, i: int, k: int) -> int:
        perm = self._perms.get(i)
        if perm is None:
            perm = self._perms[i] = list(range(len(range(i, self.n, self.r))))
            self.rng.shuffle(perm)
        if k < len(perm):
            return i + self.r * perm[k]
        return self.rng.randrange(self.n)


@dataclass
class Plan:
    """Synthetic entities, each as the index of the real record it copies, and their links."""

    countries: list[int]
    iranian: list[int]
    foreign: list[tuple[int, int]]  # (record, country)
    ties: list[tuple[int, int, int]]  # (record, iranian city, foreign city)
    networks: list[int]
    memberships: list[tuple[int, int, int]]  # (record, iranian city, network)


def plan(profile: Profile, scale: float, seed: int) -> Plan:
    """Which entities a graph at ``scale`` holds; the same ``seed`` gives the same plan."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets

    def size(records: Sequence[object]) -> int:
        return max(1, round(len(records) * scale))

    p = profile
    n_c, n_ir, n_f = size(p.countries), size(p.iranian_cities), size(p.foreign_cities)
    n_t, n_n, n_m = size(p.ties), size(p.networks), size(p.memberships)
    country = _Copies(len(p.countries), n_c, rng)
    iranian = _Copies(len(p.iranian_cities), n_ir, rng)
    foreign = _Copies(len(p.foreign_cities), n_f, rng)
    network = _Copies(len(p.networks), n_n, rng)
    r_f, r_t, r_m = len(p.foreign_cities), len(p.ties), len(p.memberships)
    foreign_cities = [
        (j % r_f, country.pick(p.foreign_cities[j % r_f].country, j // r_f)) for j in range(n_f)
    ]
    ties, pairs = [], set()
    for j in range(n_t):
        real = p.ties[j % r_t]
        pair = (iranian.pick(real.iranian, j // r_t), foreign.pick(real.partner, j // r_t))
        if pair not in pairs:  # only a partial copy can draw a pair twice
            pairs.add(pair)
            ties.append((j % r_t, *pair))
    memberships, seen = [], set()
    for j in range(n_m):
        m = p.memberships[j % r_m]
        pair = (iranian.pick(m.city, j // r_m), network.pick(m.network, j // r_m))
        if pair not in seen:
            seen.add(pair)
            memberships.append((j % r_m, *pair))
    active = {t[1] for t in ties} | {m[1] for m in memberships}
    for city in range(n_ir):  # every Iranian city needs a tie or a membership
        if city not in active:
            pair = (city, rng.randrange(n_n))
            seen.add(pair)
            memberships.append((0, *pair))
    return Plan(
        countries=[j % len(p.countries) for j in range(n_c)],
        iranian=[j % len(p.iranian_cities) for j in range(n_ir)],
        foreign=foreign_cities,
        ties=ties,
        networks=[j % len(p.networks) for j in range(n_n)],
        memberships=memberships,
    )
