"""CPU, memory and disk of this process and of the machine, for /health/detailed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import psutil

MB = 1024 * 1024
T = TypeVar("T")


class SystemProbe:
    """Holds the psutil handles whose CPU percentages are measured between two calls."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._process = psutil.Process()
        # psutil's first cpu_percent() call only starts the measurement; prime it here so
        # the first report is already a real number (since this probe was built).
        self._process.cpu_percent(None)
        psutil.cpu_percent(None)

    def snapshot(self) -> dict[str, Any]:
        return {"process": self._process_info(), "machine": self._machine_info()}

    def _process_info(self) -> dict[str, Any]:
        proc = self._process
        with proc.oneshot():
            memory = proc.memory_info()
            return {
                "pid": proc.pid,
                # 100 = one core busy; can exceed 100 on several cores.
                "cpu_percent": proc.cpu_percent(None),
                "rss_mb": round(memory.rss / MB, 1),
                "threads": proc.num_threads(),
                "open_files": _safe(lambda: len(proc.open_files())),
            }

    def _machine_info(self) -> dict[str, Any]:
        memory = psutil.virtual_memory()
        return {
            "cpu_count": psutil.cpu_count(),
            "cpu_percent": psutil.cpu_percent(None),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "memory_total_mb": round(memory.total / MB),
            "memory_available_mb": round(memory.available / MB),
            "memory_percent": memory.percent,
            "disk": _disk(self._data_dir),
        }


def _disk(path: Path) -> dict[str, Any]:
    target = path if path.exists() else Path(".")
    usage = psutil.disk_usage(str(target.resolve()))
    return {
        "path": str(target.resolve()),
        "total_mb": round(usage.total / MB),
        "free_mb": round(usage.free / MB),
        "percent": usage.percent,
    }


def _safe(read: Callable[[], T]) -> T | None:
    try:
        return read()
    except (psutil.Error, OSError):  # e.g. access denied in a locked-down container
        return None
