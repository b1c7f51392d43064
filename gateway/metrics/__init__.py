"""Support metrics (FRT, reply and resolution times, reopen and deflection rates, CSAT)
and the operations metrics for Prometheus.

`definitions`, `csat` and `report` are PURE (the import-linter contract "metrics rules
are pure" pins it); `gateway/storage/metrics_queries.py` records the events in the units
of work that make the changes; `service` reports them and sends the CSAT surveys;
`csat_step` reads the answers in the inbound pipeline; `prometheus` is /metrics.
"""
