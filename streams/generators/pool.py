"""Pools of generated events, cached on disk as flat particle arrays (npz, no pickle).

A pool is keyed by everything that changes its content: the full Pythia settings
(process, energy, extra lines, seed), the number of events, the pythia8mc version
and the pool format. A cached file whose key differs, or that cannot be read, is
regenerated. The cache lives in ``$L1EMU_CACHE`` or ``~/.cache/l1emu``.

>>> s = PoolSettings(process="minbias", events=1000, seed=7)
>>> s.pythia_lines()[:2]
('Beams:eCM = 13600.0', 'Random:setSeed = on')
>>> len(s.key()) == 64
True
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from streams.errors import ConfigError, SourceError
from streams.generators._pythia import GeneratedParticles, pythia_version, run_pythia
from streams.generators.processes import COMMON_SETTINGS, get_process

__all__ = ["POOL_FORMAT", "ParticlePool", "PoolSettings", "default_cache_dir", "load_pool", "pool_path"]

log = logging.getLogger(__name__)

POOL_FORMAT: Final = 3  # 2: per-event p̂T (``pthat``) for stitching; 3: leading visible τ_h (``tau_vis``)
_ARRAYS: Final = ("offsets", "pt", "eta", "phi", "e", "pid", "charge")
_MAX_SEED: Final = 900_000_000  # Pythia's Random:seed limit


def default_cache_dir() -> Path:
    """``$L1EMU_CACHE`` if set, else ``~/.cache/l1emu``."""
    env = os.environ.get("L1EMU_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "l1emu"


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """What a pool is generated from; equal settings give identical pools."""

    process: str = "minbias"
    events: int = 20_000
    seed: int = 1
    ecm_gev: float = 13600.0
    extra: tuple[str, ...] = ()  # additional Pythia settings, applied last
    pthat: tuple[float, float] | None = None  # (min, max) for a binned process

    def __post_init__(self) -> None:
        get_process(self.process)
        if self.events < 1:
            msg = f"pool events must be positive, got {self.events}"
            raise ConfigError(msg)
        if not 0 <= self.seed <= _MAX_SEED:
            msg = f"pool seed {self.seed} outside Pythia's range 0 … {_MAX_SEED}"
            raise ConfigError(msg)

    def pythia_lines(self) -> tuple[str, ...]:
        """The complete, ordered list of Pythia settings for this pool."""
        proc = get_process(self.process)
        lines = [f"Beams:eCM = {self.ecm_gev}", "Random:setSeed = on", f"Random:seed = {self.seed}"]
        lines += [*COMMON_SETTINGS, *proc.settings]
        if self.pthat is not None:
            lines += [f"PhaseSpace:pTHatMin = {self.pthat[0]}", f"PhaseSpace:pTHatMax = {self.pthat[1]}"]
        return (*lines, *self.extra)

    def key(self) -> str:
        """sha256 over settings, event count, pythia8mc version and pool format."""
        blob = json.dumps(
            {"lines": self.pythia_lines(), "events": self.events, "pythia": pythia_version(),
             "format": POOL_FORMAT},
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def filename(self) -> str:
        tag = self.process if self.pthat is None else f"{self.process}-{self.pthat[0]:g}"
        return f"pool-{tag}-{self.events}-{self.key()[:16]}.npz"


@dataclass(frozen=True, slots=True)
class ParticlePool:
    """Final-state particles of ``len(pool)`` events (flat arrays + ``offsets``)."""

    settings: PoolSettings
    offsets: np.ndarray
    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    e: np.ndarray
    pid: np.ndarray
    charge: np.ndarray
    sigma_mb: float = 0.0
    sigma_err_mb: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)
    #: float32 (events,) p̂T of each event's hardest interaction (GeV); empty if unknown
    pthat: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    #: float32 (events, 3) leading visible hadronic τ (pT GeV, η, φ) with |η| < 2.5, zeros if none
    tau_vis: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.float32))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_particles(self) -> int:
        return int(self.offsets[-1])

    def event(self, i: int) -> dict[str, np.ndarray]:
        """Particle arrays of event ``i``."""
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        return {k: getattr(self, k)[lo:hi] for k in _ARRAYS[1:]}

    def event_pthat(self) -> np.ndarray:
        """p̂T per event (float32); zeros when the pool does not record it."""
        return self.pthat if len(self.pthat) == len(self) else np.zeros(len(self), np.float32)

    def event_tau_vis(self) -> np.ndarray:
        """Leading visible τ_h per event, float32 (events, 3); zeros when the pool does not record it."""
        return self.tau_vis if len(self.tau_vis) == len(self) else np.zeros((len(self), 3), np.float32)

    def event_index(self) -> np.ndarray:
        """Event number of every particle (int64)."""
        return np.repeat(np.arange(len(self)), np.diff(self.offsets))

    # -- persistence ---------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write atomically to ``path`` (npz, compressed)."""
        meta = {**self.meta, "settings": asdict(self.settings), "key": self.settings.key(),
                "sigma_mb": self.sigma_mb, "sigma_err_mb": self.sigma_err_mb}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            np.savez_compressed(fh, meta=np.array(json.dumps(meta)), **{k: getattr(self, k) for k in _ARRAYS},
                                pthat=self.event_pthat(), tau_vis=self.event_tau_vis())
        tmp.replace(path)

    @classmethod
    def read(cls, path: Path, settings: PoolSettings) -> ParticlePool:
        """Read a cached pool; SourceError if unreadable or made from other settings."""
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                arrays = {k: np.asarray(z[k]) for k in (*_ARRAYS, "pthat", "tau_vis")}
        except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            msg = f"{path}: unreadable pool cache ({exc})"
            raise SourceError(msg) from exc
        if meta.get("key") != settings.key():
            msg = f"{path}: pool cache key {meta.get('key')!r} does not match the settings"
            raise SourceError(msg)
        if (len(arrays["offsets"]) != settings.events + 1 or arrays["offsets"][-1] != len(arrays["pt"])
                or len(arrays["pthat"]) != settings.events or arrays["tau_vis"].shape != (settings.events, 3)):
            msg = f"{path}: pool cache arrays are inconsistent (truncated?)"
            raise SourceError(msg)
        return cls(settings, sigma_mb=float(meta["sigma_mb"]), sigma_err_mb=float(meta["sigma_err_mb"]),
                   meta=meta, **arrays)

    @classmethod
    def from_generated(cls, settings: PoolSettings, gen: GeneratedParticles) -> ParticlePool:
        arrays = {k: getattr(gen, k) for k in _ARRAYS}
        n = len(arrays["offsets"]) - 1
        pthat = gen.pthat if gen.pthat is not None else np.zeros(n, np.float32)
        tau_vis = gen.tau_vis if gen.tau_vis is not None else np.zeros((n, 3), np.float32)
        return cls(settings, sigma_mb=gen.sigma_mb, sigma_err_mb=gen.sigma_err_mb, pthat=pthat, tau_vis=tau_vis,
                   meta={"pythia": pythia_version(), "pythia_lines": list(settings.pythia_lines())},
                   **arrays)


def pool_path(settings: PoolSettings, cache_dir: Path | None = None) -> Path:
    """Where the pool of ``settings`` is cached (``cache_dir=None``: :func:`default_cache_dir`)."""
    return (cache_dir or default_cache_dir()) / settings.filename()


def load_pool(
    settings: PoolSettings, *, cache_dir: Path | None = None, progress: bool = True,
    regenerate: bool = False,
) -> ParticlePool:
    """The pool for ``settings``: from the cache if valid, else generated and cached.

    ``cache_dir=None`` uses :func:`default_cache_dir`.
    """
    path = pool_path(settings, cache_dir)
    if path.exists() and not regenerate:
        try:
            pool = ParticlePool.read(path, settings)
        except SourceError as exc:
            log.warning("%s; regenerating", exc)
        else:
            log.info("pool %s: %d events from cache", path.name, len(pool))
            return pool
    log.info("generating pool %s (%d %s events)", path.name, settings.events, settings.process)
    gen = run_pythia(settings.pythia_lines(), settings.events, progress=progress,
                     desc=f"pythia {settings.process}")
    pool = ParticlePool.from_generated(settings, gen)
    try:
        pool.save(path)
    except OSError as exc:
        log.warning("%s: cannot write pool cache (%s); continuing without", path, exc)
    return pool
