"""Published container ports: which control ports of ML services a mapping opens to the
network (compose ``ports:``, ``docker run -p``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from mlwarden.findings import Severity
from mlwarden.scanners.code.serving.model import ServingIssue, host_exposure


@dataclass(frozen=True, slots=True)
class ControlPort:
    """A well-known port of an ML service, and words that tell that service is running."""

    port: int
    service: str
    product: str
    severity: Severity


_HINTS = {
    "ray": re.compile(r"(?<![\w-])ray(?![\w-])|rayproject|kuberay", re.IGNORECASE),
    "torchserve": re.compile(r"torchserve", re.IGNORECASE),
    "mlflow": re.compile(r"mlflow", re.IGNORECASE),
    "jupyter": re.compile(r"jupyter|notebook", re.IGNORECASE),
}
CONTROL_PORTS = {
    p.port: p
    for p in (
        ControlPort(8265, "Ray dashboard and Jobs API", "ray", Severity.MEDIUM),
        ControlPort(10001, "Ray client server", "ray", Severity.MEDIUM),
        ControlPort(8081, "TorchServe management API", "torchserve", Severity.MEDIUM),
        ControlPort(7071, "TorchServe gRPC management API", "torchserve", Severity.MEDIUM),
        ControlPort(8082, "TorchServe metrics API", "torchserve", Severity.LOW),
        ControlPort(5000, "MLflow server", "mlflow", Severity.MEDIUM),
        ControlPort(8888, "Jupyter server", "jupyter", Severity.LOW),
    )
}
_TARGET = re.compile(r"(?P<first>\d+)(?:-(?P<last>\d+))?")
_MAX_RANGE = 65536


def parse_port_spec(spec: str) -> tuple[str | None, range] | None:
    """``[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]`` as (host IP or None, container ports)."""
    text = spec.strip().strip("'\"").rpartition("/")[0] or spec.strip().strip("'\"")
    ip: str | None = None
    if text.startswith("["):
        ip, _bracket, text = text[1:].partition("]")
        text = text.removeprefix(":")
    parts = text.split(":")
    if len(parts) == 3 and ip is None:
        ip = parts[0]
    elif len(parts) > 2:
        return None
    match = _TARGET.fullmatch(parts[-1])
    if match is None:
        return None
    low = int(match["first"])
    high = int(match["last"] or low)
    if high < low or high >= _MAX_RANGE:
        return None
    return (ip or None), range(low, high + 1)


def published_port_issues(
    spec: str,
    hint: str,
    line: int,
    column: int | None,
    *,
    source: str,
    how: str,
    authenticated: frozenset[str] = frozenset(),
) -> Iterator[ServingIssue]:
    """Issues for one port mapping; ``hint`` is the text that names the service (image,
    command, service name), ``authenticated`` the products whose command enables auth."""
    parsed = parse_port_spec(spec)
    if parsed is None:
        return
    host_ip, ports = parsed
    if host_ip is not None and not host_exposure(host_ip).reachable:
        return  # bound to loopback, or to an address only known at run time
    for port in sorted(CONTROL_PORTS):
        if port not in ports:
            continue
        control = CONTROL_PORTS[port]
        if control.product in authenticated or not _HINTS[control.product].search(hint):
            continue
        yield ServingIssue(
            "MW522",
            line,
            f"{how} publishes the {control.service} (container port {port}) on "
            f"{host_ip or 'all host interfaces'}",
            column=column,
            severity=control.severity,
            evidence={
                "source": source,
                "server": control.product,
                "port": port,
                "mapping": spec,
                "host_ip": host_ip or "0.0.0.0",
            },
            key=f"{spec}:{port}",
        )
