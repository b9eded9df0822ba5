"""Open a Snakemake ``report.html`` in headless Chromium, as a person would, and say what it showed.

A copy of the report gets a small script that runs in the page once it has loaded. It decodes every
embedded figure (``new Image()`` until ``onload`` or ``onerror``: a broken PNG has no natural width;
``decode()`` never settles under ``--virtual-time-budget``) and reads every embedded table. It lists
the captions that hold a docutils error (RST that did not render). Then it drives the report's own
app (the global ``app``) to a category and to one figure, and records every ``<img>`` then in the
page and the page's text. The record is written into the DOM, which ``chromium --dump-dom`` prints;
the same page, with ``--screenshot``, is the picture. Uses Debian's ``chromium`` package
(``apt-get install chromium``); callers skip when it is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
#: Headless, as root, offline and quiet: no sandbox (root), no GPU, no network services.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)

CHECK_SCRIPT = """
<script id="vbpipe-browser-check">
window.addEventListener("load", async () => {
  const record = {figures: 0, broken: [], tables: {}, caption_errors: [], shown: {}, errors: []};
  try {
    for (const [path, result] of Object.entries(results)) {
      if (/system-message|class="problematic"/.test(result.caption || "")) {
        record.caption_errors.push(path);
      }
      if (result.mime_type.startsWith("image/")) {
        const image = new Image();
        await new Promise((resolve) => {
          image.onload = resolve; image.onerror = resolve; image.src = result.data_uri;
        });
        if (image.naturalWidth > 0) { record.figures += 1; } else { record.broken.push(path); }
      } else if (result.mime_type === "text/csv") {
        const text = await (await fetch(result.data_uri)).text();
        record.tables[path] = text.trim().split("\\n");
      }
    }
    const category = Object.keys(categories)[0];
    const subcategory = Object.keys(categories[category])[0];
    const figure = categories[category][subcategory].find(
      (path) => results[path].mime_type.startsWith("image/"));
    // One setView: React batches state updates, so a second call would read the state before it.
    app.setView({
      navbarMode: "subcategory", category: category, subcategory: subcategory,
      content: "img", contentPath: results[figure].data_uri, resultPath: figure,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const images = Array.from(document.querySelectorAll("img"));
    await Promise.all(images.map((image) => image.complete ? null : new Promise((resolve) => {
      image.onload = resolve; image.onerror = resolve;
    })));
    record.shown = {
      category: category, subcategory: subcategory, figure: figure,
      images: images.map((image) => [image.src.slice(0, 40), image.naturalWidth]),
      text: document.body.innerText,
    };
  } catch (error) {
    record.errors.push(String(error));
  }
  const out = document.createElement("pre");
  out.id = "vbpipe-check";
  out.textContent = JSON.stringify(record);
  out.style.display = "none";
  document.body.appendChild(out);
});
</script>
"""


def instrumented_copy(report: Path, dest: Path) -> Path:
    """``report`` with :data:`CHECK_SCRIPT` before its last ``</body>``."""
    html = report.read_text(encoding="utf-8")
    at = html.rindex("</body>")
    dest.write_text(html[:at] + CHECK_SCRIPT + html[at:], encoding="utf-8")
    return dest


def _chromium(page: Path, profile: Path, *extra: str, timeout: int = 180) -> str:
    shutil.rmtree(profile, ignore_errors=True)
    command = [
        str(CHROMIUM),
        *FLAGS,
        f"--user-data-dir={profile}",
        "--virtual-time-budget=20000",
        "--window-size=1600,1000",
        *extra,
        page.resolve().as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"chromium failed ({result.returncode}): {result.stderr[-2000:]}")
    return result.stdout


def look_at(report: Path, workdir: Path) -> tuple[dict, Path]:
    """Open ``report`` in headless Chromium: the page's record (see the module doc) and a
    screenshot (PNG) of the report showing its first category and one figure."""
    page = instrumented_copy(report, workdir / "report_check.html")
    dom = _chromium(page, workdir / "chromium-profile", "--dump-dom")
    start = dom.find('<pre id="vbpipe-check"')
    if start < 0:
        raise AssertionError("the page's check did not finish (no #vbpipe-check in the DOM)")
    body = dom[dom.index(">", start) + 1 : dom.index("</pre>", start)]
    import html as html_text

    record = json.loads(html_text.unescape(body))
    screenshot = workdir / "report.png"
    _chromium(page, workdir / "chromium-profile", f"--screenshot={screenshot}")
    return record, screenshot
