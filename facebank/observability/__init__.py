"""Metrics, structured logs with request ids, rolling request stats and system probes.

Nothing here is global: each service container builds its own Metrics (with its own
Prometheus CollectorRegistry, and the request recorder that feeds both /metrics and
/health/detailed) and each app its own SystemProbe.
"""
