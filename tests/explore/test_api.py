"""The explorer's JSON API over HTTP: good and bad input, static files only, concurrent requests."""

from __future__ import annotations

import base64
import http.client
import io
import json
import shlex
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import qdthermo as qd
from qdthermo.cli import main
from qdthermo.explore import api

FORCE_MAP = {"x": "F_E", "y": "F_N", "x_range": [-2.0, 0.9], "y_range": [-3.0, 3.0], "n": 201,
             "quantity": "regime"}


def _query(**values: Any) -> dict[str, Any]:
    return {"preset": "coupled_transport", "values": {"F_E": 0.3, "F_N": 0.1, **values}, "map": dict(FORCE_MAP),
            "cut": {"param": "F_N", "range": [-3.0, 3.0], "quantity": "J_N"}}


def _request(url: str, method: str, path: str, body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def _post(url: str, path: str, query: Any) -> tuple[int, Any]:
    status, _, body = _request(url, "POST", path, json.dumps(query).encode())
    return status, json.loads(body)


def _codes(layer: dict[str, Any], n: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(layer["data"]), dtype=np.uint8).reshape(n, n)


# ------------------------------------------------------------------------------ good input
def test_presets_list_every_registered_preset_with_units_and_ranges(server_url: str) -> None:
    status, _, body = _request(server_url, "GET", "/api/presets")
    assert status == 200
    data = json.loads(body)
    names = [p["name"] for p in data["presets"]]
    assert names == list(qd.model.registry.REGISTRY)
    ct = data["presets"][names.index("coupled_transport")]
    fields = {f["name"]: f for f in ct["fields"]}
    assert fields["F_E"]["units"] == "1/energy" and "F_E < 1/T_ref" in fields["F_E"]["range"]
    assert {"gamma_t", "gamma_b", "gamma_r"} <= set(fields)
    assert ct["map"]["x"] == "F_E" and ct["map"]["quantity"] == "regime"
    assert [r["name"] for r in data["regimes"]][4] == "genuine ICC"


def test_force_plane_map_matches_one_batched_solve(server_url: str) -> None:
    status, m = _post(server_url, "/api/map", _query(J=12.0))
    assert status == 200
    assert [layer["name"] for layer in m["layers"]] == ["regime of J_E", "regime of J_N"]
    fe = np.linspace(-2.0, 0.9, 201)
    fn = np.linspace(-3.0, 3.0, 201)
    res = qd.solve(qd.coupled_transport(fe[:, None], fn[None, :], J=12.0))
    for layer, flux in zip(m["layers"], ("J_E", "J_N")):
        codes = _codes(layer, 201)
        np.testing.assert_array_equal(codes, np.asarray(res.regime[flux]).T[::-1])  # top row = highest F_N
    assert (_codes(m["layers"][1], 201) == int(qd.Regime.ICC)).any()  # x = -2 (U_eff = -3): genuine ICC
    assert m["seconds"] < 5


def test_point_reports_currents_and_a_command_that_reproduces_it(server_url: str) -> None:
    status, p = _post(server_url, "/api/point", _query(U="0.5", gamma_t=0.7))
    assert status == 200
    assert p["command"] == "qdthermo point --preset coupled_transport --set F_E=0.3 --set F_N=0.1 --set U=0.5 " \
                           "--set gamma_t=0.7"
    out = CliRunner().invoke(main, shlex.split(p["command"])[1:] + ["--json"])
    assert out.exit_code == 0, out.output
    ref = json.loads(out.output)
    for row in p["currents"]:
        assert row["J_N"] == pytest.approx(ref["particle_current"][row["lead"]], abs=1e-14)
        assert row["J_Q"] == pytest.approx(ref["heat_current"][row["lead"]], abs=1e-14)
    assert p["thermo"]["entropy production (micro)"] == pytest.approx(ref["entropy_production"])
    assert p["regime"] == ref["regime"]
    assert p["performance"]["power"] == pytest.approx(ref["performance"]["power"])
    cut = p["cut"]
    assert cut["param"] == "F_N" and len(cut["x"]) == len(cut["y"]) == 201
    assert cut["x0"] == 0.1 and cut["y0"] == pytest.approx(ref["fluxes"]["J_N"])


def test_observable_map_for_every_preset(server_url: str) -> None:
    _, _, body = _request(server_url, "GET", "/api/presets")
    for preset in json.loads(body)["presets"]:
        values = {f["name"]: f["value"] for f in preset["fields"]}
        query = {"preset": preset["name"], "values": values, "map": {**preset["map"], "n": 41}}
        status, m = _post(server_url, "/api/map", query)
        assert status == 200, (preset["name"], m)
        assert len(base64.b64decode(m["layers"][0]["data"])) == 41 * 41
        query["map"]["quantity"] = "entropy_production"
        status, m = _post(server_url, "/api/map", query)
        assert status == 200 and m["layers"][0]["kind"] == "scalar", (preset["name"], m)
        status, p = _post(server_url, "/api/point", {**query, "cut": preset["cut"]})
        assert status == 200 and p["command"].startswith(f"qdthermo point --preset {preset['name']}")


def test_a_map_of_round_off_is_drawn_as_zero(server_url: str) -> None:
    """heat_current_r of three_terminal is exactly 0 when only lead t is hot: no colour scale on 1e-16 noise."""
    q = {"preset": "three_terminal", "values": {"eps_L": 1, "eps_R": 1, "T_t": 2},
         "map": {"x": "T_t", "y": "mu_t", "x_range": [0.2, 4], "y_range": [-3, 3], "n": 51,
                 "quantity": "heat_current_r"}}
    status, m = _post(server_url, "/api/map", q)
    assert status == 200
    layer = m["layers"][0]
    assert "= 0 everywhere" in layer["name"] and layer["scale"] is None
    assert set(np.unique(_codes(layer, 51))) == {127}  # the white middle of the diverging map


def test_get_with_query_string_and_netcdf_download(server_url: str) -> None:
    import xarray as xr

    q = _query()
    q["map"]["n"] = 21
    enc = urllib.parse.quote(json.dumps(q))
    status, _, body = _request(server_url, "GET", f"/api/map?q={enc}")
    assert status == 200 and json.loads(body)["n"] == 21
    status, headers, data = _request(server_url, "GET", f"/api/netcdf?q={enc}")
    assert status == 200
    assert "attachment" in headers["Content-Disposition"] and headers["Content-Type"] == "application/x-netcdf"
    ds = xr.open_dataset(io.BytesIO(data))
    assert ds.sizes["F_E"] == ds.sizes["F_N"] == 21
    assert {"particle_current", "entropy_production", "regime_J_N"} <= set(ds.data_vars)
    assert ds.attrs["point_command"].startswith("qdthermo point --preset coupled_transport")
    ref = qd.solve(qd.coupled_transport(ds["F_E"].values[:, None], ds["F_N"].values[None, :]))
    np.testing.assert_allclose(ds["entropy_production"].values, ref.entropy_production, rtol=1e-12)


# ------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(("values", "message"), [
    ({"U": "abc"}, "U must be a number, got 'abc'"),
    ({"U": ""}, "U: empty field"),
    ({"U": -1}, "U = -1.0: must be non-negative (allowed range: 0 <= U < inf)"),
    ({"T_ref": "nan"}, "T_ref = nan: must be a finite number"),
    ({"F_E": 2}, "F_E = 2.0 implies a non-positive temperature of lead t"),
    ({"mu_t": 1}, "unknown parameter 'mu_t' for preset coupled_transport"),
    ({"gamma_x": 1}, "unknown lead 'x' of gamma"),
    ({"U": [1, 2]}, "U must be a number"),
])
def test_bad_values_are_400_with_the_parameter_named(server_url: str, values: dict[str, Any], message: str) -> None:
    paths = ("/api/point",) if "F_E" in values else ("/api/point", "/api/map")  # the map's F_E is its axis
    for path in paths:
        status, body = _post(server_url, path, _query(**values))
        assert status == 400, body
        assert message in body["error"], body
        assert "Traceback" not in body["error"]


@pytest.mark.parametrize(("change", "message"), [
    ({"preset": "nope"}, "unknown preset 'nope'"),
    ({"map": {**FORCE_MAP, "n": 10_000}}, "the map side must be an integer from 2 to 401"),
    ({"map": {**FORCE_MAP, "x": "F_N"}}, "x and y are both F_N"),
    ({"map": {**FORCE_MAP, "x_range": [1, 0]}}, "low 1 must be below high 0"),
    ({"map": {**FORCE_MAP, "x_range": ["a", 0]}}, "x_range of F_E must be a number"),
    ({"map": {**FORCE_MAP, "x": "eps_L[1->2]"}}, "eps_L[1->2]"),
    ({"map": {**FORCE_MAP, "quantity": "bogus"}}, "quantity 'bogus' unknown"),
    ({"values": [1, 2]}, "values must be an object"),
    ({"map": None}, "map: missing"),
])
def test_bad_map_requests_are_400(server_url: str, change: dict[str, Any], message: str) -> None:
    status, body = _post(server_url, "/api/map", {**_query(), **change})
    assert status == 400, body
    assert message in body["error"]


@pytest.mark.parametrize("body", [b"{", b"[]", b"null", b"\xff\xfe", b'"text"'])
def test_malformed_bodies_are_400(server_url: str, body: bytes) -> None:
    status, _, data = _request(server_url, "POST", "/api/point", body)
    assert status == 400
    assert json.loads(data)["error"]


def test_oversized_body_is_refused(server_url: str) -> None:
    status, _, data = _request(server_url, "POST", "/api/point", b"x" * (65 * 1024))
    assert status == 400 and "bytes of JSON" in json.loads(data)["error"]


@pytest.mark.parametrize("path", [
    "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/static/../api.py", "/app.js/../../server.py",
    "//etc/passwd", "/api.py", "/server.py", "/static/app.js", "/..%2fapi.py", "/index.html%00.py",
])
def test_only_whitelisted_files_are_served(server_url: str, path: str) -> None:
    status, _, body = _request(server_url, "GET", path)
    assert status == 404
    assert b"import" not in body and b"root:" not in body


def test_static_files_are_served(server_url: str) -> None:
    for path, kind in (("/", "text/html"), ("/app.js", "text/javascript"), ("/style.css", "text/css")):
        status, headers, body = _request(server_url, "GET", path)
        assert status == 200 and headers["Content-Type"].startswith(kind) and body
    _, _, page = _request(server_url, "GET", "/")
    assert b"http://" not in page and b"https://" not in page  # nothing from a CDN


def test_an_internal_error_is_one_line_and_the_server_keeps_serving(server_url: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(query: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(api, "compute_point", boom)
    status, body = _post(server_url, "/api/point", _query())
    assert status == 500 and body == {"error": "internal error (RuntimeError): boom"}
    monkeypatch.undo()
    status, _ = _post(server_url, "/api/point", _query())
    assert status == 200


def test_concurrent_requests_from_two_tabs_do_not_mix(server_url: str) -> None:
    """Stateless requests: many at once, each answered for its own parameters."""
    queries = [_query(F_N=fn, U=u) for fn in (-1.0, 0.0, 0.5, 1.5) for u in (0.0, 1.0)]

    def one(q: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        q = {**q, "map": {**q["map"], "n": 61}}
        status_m, m = _post(server_url, "/api/map", q)
        status_p, p = _post(server_url, "/api/point", q)
        assert status_m == status_p == 200
        return q, (m, p)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(one, queries * 2))
    for q, (m, p) in answers:
        v = q["values"]
        ref = qd.solve(qd.coupled_transport(v["F_E"], v["F_N"], U=v["U"]))
        assert p["fluxes"]["J_N"] == pytest.approx(float(ref.fluxes["J_N"]), abs=1e-14)
        assert f"F_N={v['F_N']}" in p["command"]
        assert m["n"] == 61


def test_explore_command_help_and_busy_port() -> None:
    import socket

    out = CliRunner().invoke(main, ["explore", "--help"])
    assert out.exit_code == 0 and "--no-browser" in out.output and "--host" in out.output
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = CliRunner().invoke(main, ["explore", "--port", str(port), "--no-browser"])
    assert out.exit_code == 1
    assert f"cannot serve on 127.0.0.1:{port}" in out.output and "Traceback" not in out.output


def test_explore_command_prints_its_url_serves_and_stops_on_ctrl_c() -> None:
    import os
    import signal
    import subprocess
    import sys
    import urllib.request

    proc = subprocess.Popen([sys.executable, "-c", "from qdthermo.cli import main; main()", "explore", "--port", "0",
                             "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("qdthermo explore: serving on http://127.0.0.1:"), line
        url = line.split("serving on ")[1].split()[0]
        with urllib.request.urlopen(url, timeout=30) as resp:
            assert resp.status == 200 and b"<canvas" in resp.read()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "stopped" in out and "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
