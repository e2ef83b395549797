"""nbconvert's HTMLExporter for feedback: nothing from a submission runs in it, and its templates compile once.

Feedback is opened by students and by tutors, and everything in it but the verdicts
comes from the submission: markdown cells (the written answers too), outputs,
tutors' comments on them. nbconvert's ``sanitize_html`` alone does not cover it:
nbgrader's feedback template renders markdown cells without ``clean_html``, and the
image templates write output metadata (``width``) into unquoted attributes. So:

* every piece of HTML that markdown or an output brings passes ``clean``, bleach
  with a list of harmless tags, attributes and styles (the verdicts' own HTML is
  within it); scripts, event handlers and ``javascript:`` links are escaped away;
* before rendering, outputs keep only the types shown as text, images or cleaned
  HTML; an image must be base64 and its size a number; everything else
  (JavaScript, widget views, unknown types) is dropped;
* ``sanitize_html`` is on, so the templates emit no output as a script.

The formgrader shows submissions through an HTMLExporter it builds after reading
nbgrader_config.py; ``use_in_formgrader`` (called there) makes that one this class.

`nbgrader generate_feedback` compiles nbgrader's feedback templates (thousands of
lines of Jinja) again in every process. A batch forks one process per submission,
so every submission would pay for it (a fifth of a second); Jinja's file-system
bytecode cache (a private folder of the user's, checked against each template's
source) lets the first one compile them for all.

HTMLExporter reads its whole page back through BeautifulSoup to give images without one an
alt text and JupyterLab's cells a tabindex: a third of the feedback's CPU time, and the classic
templates nbgrader's feedback and formgrader use have no such cells. This exporter adds the alt
text itself (``with_alt_text``) and renders the page once. ``clean`` remembers what it returned, the
markdown cells' rendering (``markdown2html_clean``) and the code cells' highlighting
(``RememberingHighlight``) their HTML, each by exact content and the settings it depends on: most of
a sheet's markdown and code is the same in every submission.

nbgrader's template shows a cell nobody has scored yet (a written answer waiting for a
tutor) as "Score: 0.0 / 0.5"; for the cells that steps.GetGradesMarkingWaiting marked, the
exporter says instead that they wait for a tutor.
"""
from __future__ import annotations

import functools
import json
import re
import sys
from pathlib import Path

import bleach
from bleach.css_sanitizer import ALLOWED_CSS_PROPERTIES, CSSSanitizer
from jinja2 import FileSystemBytecodeCache, pass_context
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from traitlets import default

from course_lib.i18n import set_language

from .language import Language, _
from .validated_once import ValidatedOnce

TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt", "em",
        "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre",
        "s", "samp", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
        "tr", "u", "ul"}
ATTRIBUTES = {"*": ["class", "id", "title", "style"], "a": ["href", "title"], "img": ["src", "alt", "width", "height"],
              "td": ["colspan", "rowspan", "align"], "th": ["colspan", "rowspan", "align"]}
STYLES = CSSSanitizer(allowed_css_properties=[*ALLOWED_CSS_PROPERTIES, "border-left", "list-style", "margin",
                                              "margin-left", "padding", "padding-left"])
SHOWN = {"text/plain", "text/html", "text/markdown", "text/latex", "image/png", "image/jpeg", "image/svg+xml"}
IMAGES = {"image/png", "image/jpeg"}
BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")


NO_ALT = "No description has been provided for this image"  # HTMLExporter's own words
IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\balt=)", re.I)


def clean(html) -> str:
    """``html`` with only harmless tags, attributes and styles; links and images by http(s), mailto or data
    (browsers do not run a data: page a link opens, nor scripts in an image)."""
    return _clean(str(html))


@functools.lru_cache(maxsize=4096)
def _clean(html: str) -> str:
    return bleach.clean(html, tags=TAGS, attributes=ATTRIBUTES, css_sanitizer=STYLES,
                        protocols={"http", "https", "mailto", "data"}, strip_comments=True)


def remembered(store: dict[str, str], key: list, render) -> str:
    """``render()``, kept in ``store`` by ``key`` (all the rendering depends on, as JSON); rendered afresh when
    the key is no JSON. At most 1024 entries of at most 8192 characters (a sheet's cells, German and English,
    are some 200 of at most 2300): the course's text and code and the first submissions' answers, not every
    submission's, and some tens of megabytes at most whatever the submissions hold."""
    try:
        key = json.dumps(key, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        return render()
    html = store.get(key)
    if html is None:
        html = render()
        if len(store) < 1024 and len(key) <= 8192:
            store[key] = html
    return html


class RememberingHighlight(Highlight2HTML):
    """Highlight2HTML, its HTML remembered by all it depends on: the source, the language, the cell's
    ``magics_language`` (which may replace the language) and the formatter's options."""
    html: dict[str, str] = {}

    def __call__(self, source, language=None, metadata=None):
        magics = [metadata["magics_language"]] if metadata and "magics_language" in metadata else []  # null ≠ none
        return remembered(self.html, [source, language or self.pygments_lexer, magics, self.extra_formatter_options],
                          lambda: super(RememberingHighlight, self).__call__(source, language, metadata))


class CSSHTMLHeaderOnce(CSSHTMLHeaderPreprocessor):
    """CSSHTMLHeaderPreprocessor, its CSS remembered by all it depends on: the pygments style, the highlight
    class and the user's custom.css (read each time); pygments builds the same style sheet for every notebook."""
    css: dict[tuple, list[str]] = {}

    def _generate_header(self, resources):
        custom = Path(resources["config_dir"], "custom", "custom.css")
        key = (self.style, self.highlight_class, custom.read_bytes() if custom.is_file() else None)
        if key not in self.css:
            self.css[key] = super()._generate_header(resources)
        return list(self.css[key])


def with_alt_text(html: str) -> str:
    """Every image without an alt attribute gets HTMLExporter's "no description" (the page is cleaned HTML,
    so "<img" only begins a tag; text and code show it escaped)."""
    return IMG_WITHOUT_ALT.sub(f'<img alt="{NO_ALT}"', html)


def _clean_output(output) -> None:
    if output.get("output_type") not in ("display_data", "execute_result"):
        return  # streams and errors are shown as escaped text
    data = output.get("data", {})
    for mime in list(data):
        value = data[mime]
        if mime not in SHOWN or (mime in IMAGES and not (isinstance(value, str) and BASE64.fullmatch(value))):
            del data[mime]
        elif mime == "text/html":
            data[mime] = clean("".join(value) if isinstance(value, list) else value)
    sizes = {mime: {k: v for k, v in meta.items() if k in ("width", "height") and isinstance(v, int)}
             for mime, meta in output.get("metadata", {}).items() if mime in IMAGES and isinstance(meta, dict)}
    output["metadata"] = sizes


class FeedbackExporter(ValidatedOnce, HTMLExporter):
    @default("sanitize_html")
    def _sanitize(self):
        return True

    def from_notebook_node(self, nb, resources=None, **kw):
        set_language(Language(parent=self).of(nb))  # the headings it adds speak the notebook's language
        output, resources = self._render(nb, resources, **kw)
        return label_waiting_cells(with_alt_text(output), resources.get("waiting_cells", {})), resources

    def _render(self, nb, resources, **kw):
        """HTMLExporter.from_notebook_node without its BeautifulSoup pass: its filters, the template, once."""
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name", None))
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", RememberingHighlight(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata,
                                                                       parent=self, resources=resources))
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = FileSystemBytecodeCache()
        markdown2html = environment.filters["markdown2html"]
        environment.filters["markdown2html"] = pass_context(
            lambda context, source: self.markdown2html_clean(markdown2html, context, source))
        environment.filters["clean_html"] = clean
        return environment

    markdown: dict[str, str] = {}

    def markdown2html_clean(self, markdown2html, context, source):
        """The markdown filter's HTML, cleaned. HTMLExporter's own, without attachments or images embedded from
        disk, depends on nothing but the source and the renderer's settings, and is remembered by them (most of
        a sheet's markdown cells are the same course text in every submission)."""
        def render():
            return clean(markdown2html(context, source))
        if (markdown2html != self.markdown2html or context.get("cell", {}).get("attachments")
                or self.embed_images):
            return render()
        return remembered(self.markdown, [source, self.anchor_link_text, self.exclude_anchor_links,
                                          self.lexer_options], render)

    def _preprocess(self, nb, resources):
        nb, resources = super()._preprocess(nb, resources)  # on the copy the template renders
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                _clean_output(output)
        resources["waiting_cells"] = waiting_cells(nb)
        return nb, resources


def use_in_formgrader() -> None:
    """Inside the formgrader (its module is loaded when it reads the configuration), render with this exporter."""
    formgrader = sys.modules.get("nbgrader.server_extensions.formgrader.formgrader")
    if formgrader is not None:
        formgrader.HTMLExporter = FeedbackExporter


def waiting_cells(nb) -> dict[str, float]:
    """grade id -> points of each graded cell that waits for a tutor."""
    return {meta["grade_id"]: float(meta.get("points") or 0) for cell in nb.cells
            if (meta := cell.metadata.get("nbgrader", {})).get("grade") and meta.get("waiting")}


def label_waiting_cells(html: str, waiting: dict[str, float]) -> str:
    """The feedback HTML with "waiting for a tutor" where the template printed 0 for those cells."""
    for grade_id, points in waiting.items():
        shown = f"{round(points, 2)}"  # as the template's `| float | round(2)` prints it
        note = _("waiting for a tutor ({points} points)").format(points=shown)
        gid = re.escape(grade_id)
        html = re.sub(rf'(<a href="#{gid}">[^<]*</a>) \(Score: [^)]*\)', rf"\1 ({note})", html)
        html = re.sub(rf'(<a name="{gid}"></a><div class="panel-heading">.*?)Score: [\d.]+ / [\d.]+',
                      lambda m: m.group(1) + note[0].upper() + note[1:], html, count=1, flags=re.S)
    if waiting:
        total = f"{round(sum(waiting.values()), 2)}"
        waits = _("{points} waiting for a tutor").format(points=total)
        html = re.sub(r"(<h4>[^<]*\(Score: [\d.]+ / [\d.]+)\)</h4>", lambda m: f"{m.group(1)}; {waits})</h4>",
                      html, count=1)
    return html
