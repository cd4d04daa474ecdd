"""What an operator sees of a process: Prometheus metrics (`metrics`), liveness and readiness
(`probes`), the small HTTP endpoint that serves both for processes without an HTTP port
(`endpoint`), the gateway's access log and HTTP metrics (`asgi`) and traces (`tracing`).

A service's hooks are one line each: `metrics.X.labels(...).inc()` where something happens,
`probes.PROBES.add(...)` for what must answer before the process takes work, and
`endpoint.serve(...)` (done once by the process lifecycle, `libs/service.py`)."""
