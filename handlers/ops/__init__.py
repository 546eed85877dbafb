"""Operations: liveness and readiness probes, Prometheus metrics, request ids."""
