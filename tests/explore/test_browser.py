"""End to end in a real browser: Playwright drives Debian's chromium on a live explorer.

Skipped (with the reason) where ``/usr/bin/chromium`` or the ``playwright``
package is missing; CI installs both (``apt-get install -y chromium``,
``pip install playwright``; no ``playwright install``: the tests use the
system browser).  Screenshots go to the test's temporary folder, or to
``$QDTHERMO_EXPLORE_SHOTS`` when set.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

CHROMIUM = os.environ.get("QDTHERMO_CHROMIUM", "/usr/bin/chromium")

if not Path(CHROMIUM).exists():
    pytest.skip(f"no browser at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("QDTHERMO_EXPLORE_SHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    return out


def _map_pixels(page: Any, k: int = 1) -> np.ndarray:
    """RGBA pixels of the k-th map canvas (the plot area only)."""
    data = page.evaluate("""(k) => {
        const c = document.querySelectorAll('canvas.map')[k];
        const px = c.getContext('2d').getImageData(MAP.left, MAP.top, MAP.size, MAP.size).data;
        let s = '';
        for (let i = 0; i < px.length; i += 8192) s += String.fromCharCode.apply(null, px.subarray(i, i + 8192));
        return [MAP.size, btoa(s)];
    }""", k)
    size, b64 = data
    return np.frombuffer(base64.b64decode(b64), dtype=np.uint8).reshape(size, size, 4)


def _version(page: Any, what: str) -> int:
    return int(page.evaluate(f"window.qdx.{what}Version"))


def _wait_for(page: Any, what: str, after: int) -> None:
    page.wait_for_function(f"window.qdx.{what}Version > {after}", timeout=20_000)


def _number(page: Any, flux: str) -> str:
    return page.evaluate("""(flux) => {
        for (const tr of document.querySelectorAll('#point tr')) {
            const td = tr.querySelectorAll('td');
            if (td.length >= 4 && td[2].textContent === flux) return td[3].textContent;
        }
        return null;
    }""", flux)


def _idle(page: Any) -> None:
    page.wait_for_function("window.qdx.inFlight === 0", timeout=20_000)


def _set(page: Any, name: str, value: str) -> None:
    """Type a value into a parameter's field and commit it (one change event), then wait for the answers."""
    field = page.locator(f'.field[data-name="{name}"] input.value')
    field.fill(value)
    field.dispatch_event("change")
    _idle(page)


def _distinct_colours(path: Path) -> int:
    import matplotlib.image as mpimg

    img = (mpimg.imread(path)[..., :3] * 255).astype(np.uint32)
    return len(np.unique((img[..., 0] << 16) | (img[..., 1] << 8) | img[..., 2]))


def test_sliders_change_the_map_and_the_numbers(browser: Any, server_url: str, shots: Path) -> None:
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server_url)
    page.wait_for_function("window.qdx.mapVersion >= 1 && window.qdx.pointVersion >= 1", timeout=30_000)
    _idle(page)
    assert page.locator("#preset").input_value() == "coupled_transport"
    first = _map_pixels(page)
    assert len(np.unique(first.reshape(-1, 4), axis=0)) >= 3  # regimes and the marker
    j_n = _number(page, "J_N")
    command = page.locator("#command").text_content()
    assert command == "qdthermo point --preset coupled_transport --set F_E=0.3 --set F_N=0.1"
    page.screenshot(path=str(shots / "explore_start.png"), full_page=True)

    # a parameter that is not an axis: J = 12 gives x = -2 and genuine ICC (red) on the map
    m, p = _version(page, "map"), _version(page, "point")
    _set(page, "J", "12")
    _wait_for(page, "map", m)
    _wait_for(page, "point", p)
    second = _map_pixels(page)
    assert (second != first).any()
    red = np.all(second[..., :3] == [0xD7, 0x30, 0x27], axis=-1)
    assert red.sum() > 1000, "no genuine-ICC pixels at J = 12"
    assert _number(page, "J_N") != j_n
    assert "--set J=12.0" in page.locator("#command").text_content()

    # moving the F_N slider moves the marker and changes the numbers, without a new map
    m, p = _version(page, "map"), _version(page, "point")
    slider = page.locator('.field[data-name="F_N"] input[type=range]')
    slider.focus()
    for _ in range(40):
        slider.press("ArrowRight")
    page.wait_for_function(f"window.qdx.pointVersion > {p} && window.qdx.values.F_N === '0.5'", timeout=20_000)
    page.wait_for_function("window.qdx.point.command.includes('F_N=0.5')", timeout=20_000)
    _idle(page)
    third = _map_pixels(page)
    assert (third != second).any()  # the marker moved
    assert _version(page, "map") == m  # the axes did not change: no new map
    assert page.locator('.field[data-name="F_N"] input.value').input_value() == "0.5"
    assert "--set F_N=0.5" in page.locator("#command").text_content()
    ms = float(page.evaluate("window.qdx.mapMs"))
    page.screenshot(path=str(shots / "explore_icc.png"), full_page=True)

    # bad input: an inline message naming the parameter, and the page keeps working
    _set(page, "U", "-1")
    page.wait_for_selector('.field.bad[data-name="U"]', timeout=20_000)
    message = page.locator('.field[data-name="U"] .error').text_content()
    assert "U = -1.0: must be non-negative" in message
    assert "stale" in page.evaluate("document.body.className")  # the numbers shown are the last good ones
    page.screenshot(path=str(shots / "explore_error.png"), full_page=True)
    p = _version(page, "point")
    _set(page, "U", "0.5")
    _wait_for(page, "point", p)
    assert page.locator('.field.bad').count() == 0
    assert "stale" not in page.evaluate("document.body.className")

    # the NetCDF link points at the current view
    href = page.locator("#download").get_attribute("href")
    assert href.startswith("/api/netcdf?q=") and "J" in href
    assert not errors, errors

    for name in ("explore_start.png", "explore_icc.png", "explore_error.png"):
        assert _distinct_colours(shots / name) > 50, f"{name} looks blank"
    print(f"\nmap round trip in the browser: {ms:.0f} ms; screenshots in {shots}")


def test_two_tabs_and_another_preset(browser: Any, server_url: str, shots: Path) -> None:
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    a, b = context.new_page(), context.new_page()
    for page in (a, b):
        page.goto(server_url)
        page.wait_for_function("window.qdx.mapVersion >= 1 && window.qdx.pointVersion >= 1", timeout=30_000)
    p = _version(b, "point")
    b.select_option("#preset", "three_terminal")
    _wait_for(b, "point", p)
    b.wait_for_function("window.qdx.point.command.includes('three_terminal')", timeout=20_000)
    b.wait_for_function("window.qdx.mapData && window.qdx.mapData.x === 'T_t'", timeout=20_000)
    p = _version(b, "point")
    _set(b, "T_t", "2.5")
    _wait_for(b, "point", p)
    assert "--set T_t=2.5" in b.locator("#command").text_content()
    # tab a is untouched by tab b
    assert a.locator("#preset").input_value() == "coupled_transport"
    assert a.locator("#command").text_content().startswith("qdthermo point --preset coupled_transport")
    # an observable map of another preset
    p = _version(b, "map")
    b.select_option("#map-q", "heat_current_t")
    _wait_for(b, "map", p)
    b.screenshot(path=str(shots / "explore_three_terminal.png"), full_page=True)
    assert _distinct_colours(shots / "explore_three_terminal.png") > 50
    context.close()
