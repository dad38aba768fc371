"""Commands that need an optional extra (pyproject's [project.optional-dependencies]) say
so in one line when it is missing, instead of failing on an import deep inside."""

from __future__ import annotations

from importlib.util import find_spec

# What `facebank bench` imports beyond the runtime: the chart (its HTTP client is its own).
# `eval` and `sessions-bench` need nothing beyond the runtime.
BENCH_MODULES = ("matplotlib",)
# `facebank bench --vs-stock` also runs the stock pipeline it compares with.
STOCK_MODULES = ("insightface",)


def require_extra(command: str, extra: str, modules: tuple[str, ...]) -> None:
    """Exit with a message naming `extra` when any of `modules` is not installed."""
    missing = [name for name in modules if find_spec(name) is None]
    if missing:
        raise SystemExit(
            f"facebank {command} needs the optional '{extra}' extra ({', '.join(missing)} "
            f"not installed): pip install 'facebank[{extra}]'"
        )
