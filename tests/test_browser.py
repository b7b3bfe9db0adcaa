"""Open the Finnish appendix in headless Chromium: screenshot, every image loaded, every contents
link and caption anchor resolves. Skipped where Chromium is not installed (``.ci/run`` installs it)."""
from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_runner import FIGURE, SETUP, demo_project, write_notebook

from tyokyky_eval.cli import main
from tyokyky_eval.render.pdf import chromium_command, find_chromium
from tyokyky_eval.resources import resource_dir

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(find_chromium() is None, reason="chromium not installed")]

CHECK = """<script>
window.addEventListener("load", () => {
  const images = [...document.images].map(i => ({ok: i.complete && i.naturalWidth > 0, alt: i.alt}));
  const links = [...document.querySelectorAll(".te-toc a")].map(a => a.getAttribute("href"));
  const result = {images, links, missing: links.filter(h => !document.getElementById(h.slice(1))),
                  captions: [...document.querySelectorAll(".te-caption-label")].map(c => c.textContent)};
  const pre = document.createElement("pre");
  pre.id = "te-check";
  pre.textContent = JSON.stringify(result);
  document.body.appendChild(pre);
});
</script>"""


def browser(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    command = chromium_command(find_chromium(), tmp / "profile", "--virtual-time-budget=5000", *args)
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def appendix(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    notebooks = root / "notebooks"
    shutil.copytree(Path(str(resource_dir("notebooks"))), notebooks)
    write_notebook(notebooks / "99_figure.ipynb", [("code", SETUP), ("fi", "# Kuvio"), ("en", "# Figure"),
                                                   ("code", FIGURE)])
    params = demo_project(root)
    assert main(["run", str(params), "--output", str(root / "out"), "--quiet", "--notebooks", str(notebooks)]) == 0
    return root / "out" / "demo" / "appendix.html"


def test_screenshot(appendix, tmp_path):
    shot = tmp_path / "appendix.png"
    browser(f"--screenshot={shot}", "--window-size=1024,1400", appendix.as_uri(), tmp=tmp_path)
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1024, 1400)


def test_images_load_and_contents_links_resolve(appendix, tmp_path):
    probe = tmp_path / "probe.html"
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", appendix.read_text(encoding="utf-8"))
    probe.write_text(page.replace("</body>", CHECK + "</body>"), encoding="utf-8")  # the page forbids scripts
    dom = browser("--dump-dom", probe.as_uri(), tmp=tmp_path).stdout
    found = re.search(r'<pre id="te-check">(.*?)</pre>', dom, re.DOTALL)
    assert found, dom[-2000:]
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert result["images"] and all(image["ok"] for image in result["images"])
    assert len(result["links"]) >= 3 and result["missing"] == []
    assert result["captions"][0] == "Taulukko 1." and "Kuvio 1." in result["captions"]


def test_pdf_was_printed(appendix):
    pdf = appendix.with_name("appendix.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000


class _TableCells(HTMLParser):
    """Text of every ``td``/``th`` of every table, in document order."""

    def __init__(self):
        super().__init__()
        self.cells, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _squash(text: str) -> str:
    """Compare text without layout: ligatures (ﬁ) unfolded, no white space or soft hyphens."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).replace("\u00ad", ""))


def test_every_table_cell_is_in_the_pdf(appendix):
    """Wide tables fit the page: no column is cut off at the right edge of the PDF."""
    pypdf = pytest.importorskip("pypdf", reason="pypdf (PDF text extraction, test extra) is not installed")
    parser = _TableCells()
    parser.feed(appendix.read_text(encoding="utf-8"))
    assert len(parser.cells) > 1000
    reader = pypdf.PdfReader(str(appendix.with_name("appendix.pdf")))
    text = _squash("".join(page.extract_text() for page in reader.pages))
    missing = [cell for cell in parser.cells if _squash(cell) and _squash(cell) not in text]
    assert missing == []
