"""The page's look and in-page behaviour: the Gradio theme, the stylesheet and the script
that opens a source in the panel when its [n] marker is clicked."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

CSS_PATH = Path(__file__).with_name("style.css")

# Click on [n] in an answer: open the source in the panel (also inside collapsed earlier answers),
# scroll it into view and let it light up briefly.
HEAD_JS = """
<script>
(function () {
  function zeigeQuelle(id) {
    var el = document.getElementById(id);
    if (!el) { return false; }
    var d = el.closest('details');
    while (d) { d.open = true; d = d.parentElement ? d.parentElement.closest('details') : null; }
    var box = el.closest('.quellen');
    if (box && box.scrollHeight > box.clientHeight + 2) {
      var top = el.getBoundingClientRect().top - box.getBoundingClientRect().top;
      box.scrollTo({top: box.scrollTop + top - 8, behavior: 'smooth'});
      var r = box.getBoundingClientRect();
      if (r.top < 0 || r.top > window.innerHeight - 120) {
        box.scrollIntoView({behavior: 'smooth', block: 'nearest'});
      }
    } else {
      el.scrollIntoView({behavior: 'smooth', block: 'nearest'});
    }
    el.classList.remove('aufleuchten');
    void el.offsetWidth;
    el.classList.add('aufleuchten');
    return true;
  }
  document.addEventListener('click', function (ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest('a[href^="#quelle-"]') : null;
    if (!a) { return; }
    if (zeigeQuelle(a.getAttribute('href').slice(1))) {
      ev.preventDefault();
      ev.stopPropagation();
    }
  }, true);
})();
</script>
"""


def page_css() -> str:
    """The app's stylesheet (`style.css` next to this module; empty when it is missing)."""
    return CSS_PATH.read_text(encoding="utf-8") if CSS_PATH.is_file() else ""


def page_theme() -> gr.themes.Base:
    """Gradio's Soft theme in blue and slate, with the system fonts."""
    system_fonts = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue",
                    "Arial", "sans-serif"]  # fmt: skip
    return gr.themes.Soft(
        primary_hue="blue",
        secondary_hue="slate",
        neutral_hue="slate",
        font=system_fonts,
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    ).set(
        button_primary_background_fill="*primary_600",
        button_primary_background_fill_hover="*primary_700",
        button_primary_text_color="white",
        button_primary_text_color_hover="white",
    )
