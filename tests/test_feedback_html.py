"""Feedback HTML that cannot run code: student HTML in markdown, outputs and output metadata is cleaned,
the verdicts' own HTML is kept, and a submission-derived name cannot leave its code span in a note."""
import re
from html.parser import HTMLParser

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograde.feedback_exporter import NO_ALT, FeedbackExporter, _clean, clean
from autograde.notes import add_note, cell_label, literal
from course_lib.feedback import Feedback

ATTACKS = ['<script>window.PWNED=1</script>', '<img src=x onerror="window.PWNED=1">',
           '<a href="javascript:window.PWNED=1">x</a>', '<svg onload="window.PWNED=1"></svg>',
           '<iframe src="https://example.org"></iframe>', '<div style="background:url(javascript:x)">y</div>']


def _render(nb) -> str:
    html, _ = FeedbackExporter().from_notebook_node(nb)
    return html


class _Live(HTMLParser):
    """The elements and attributes a browser would act on: scripts, handlers, javascript: links, frames."""
    def __init__(self):
        super().__init__()
        self.found, self.in_script = [], False

    def handle_starttag(self, tag, attrs):
        self.in_script = tag == "script"
        if tag in ("iframe", "svg", "object", "embed", "form"):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}={value}")

    def handle_data(self, data):
        if self.in_script and "PWNED" in data:
            self.found.append("script " + data)

    def handle_endtag(self, tag):
        self.in_script = False


def _dangerous(html: str) -> list[str]:
    parser = _Live()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize("attack", ATTACKS)
def test_markdown_cells_are_cleaned(attack):
    assert _dangerous(_render(new_notebook(cells=[new_markdown_cell(f"# Answer\n\n{attack} and **bold**")]))) == []


@pytest.mark.parametrize("attack", ATTACKS)
def test_html_and_markdown_outputs_are_cleaned(attack):
    outputs = [new_output("display_data", data={"text/html": attack, "text/plain": "x"}),
               new_output("execute_result", data={"text/markdown": attack}, execution_count=1)]
    assert _dangerous(_render(new_notebook(cells=[new_code_cell("x", outputs=outputs)]))) == []


def test_scripts_widgets_and_crafted_images_are_dropped():
    outputs = [new_output("display_data", data={"application/javascript": "window.PWNED=1",
                                                "application/vnd.jupyter.widget-view+json": {"model_id": "x"}}),
               new_output("display_data", data={"image/png": '"><script>window.PWNED=1</script>'}),
               new_output("display_data", data={"image/png": "iVBORw0KGgo="},
                          metadata={"image/png": {"width": "1 onerror=window.PWNED=1", "height": 20}})]
    html = _render(new_notebook(cells=[new_code_cell("x", outputs=outputs)]))
    assert _dangerous(html) == [] and "PWNED" not in html
    assert "base64,iVBORw0KGgo=" in html and re.search(r'\bheight="?20"?\s', html)


def test_every_image_has_an_alt_text_its_own_where_markdown_gives_one():
    markdown = '![the loss](data:image/png;base64,iVBORw0KGgo=) <img src="data:image/png;base64,iVBORw0KGgo=">'
    outputs = [new_output("display_data", data={"image/png": "iVBORw0KGgo="})]
    html = _render(new_notebook(cells=[new_markdown_cell(markdown), new_code_cell("x", outputs=outputs)]))
    images = re.findall(r"<img\b[^>]*>", html)
    assert len(images) == 3 and all(re.search(r'\balt="', i) for i in images)
    assert 'alt="the loss"' in html and html.count(f'alt="{NO_ALT}"') == 2   # the markdown tag, the output
    assert "&lt;img" in _render(new_notebook(cells=[new_code_cell("'<img src=x>'")]))  # code shows it escaped


def test_clean_gives_the_same_html_when_it_remembers_it():
    for attack in ATTACKS:
        assert clean(attack) == clean(attack) == _clean.__wrapped__(attack)
        assert _dangerous(clean(attack)) == []


def test_the_verdicts_own_html_survives():
    verdict = Feedback("a1", 0.5, title="Graded: a1").add("n=3, i=1", "wrong", "sign error <b>").html()
    html = _render(new_notebook(cells=[new_code_cell("x", outputs=[new_output("display_data",
                                                                                 data={"text/html": verdict})])]))
    assert 'class="course-lib-feedback"' in html and "border-left:4px solid" in html
    assert "sign error &lt;b&gt;" in html


def test_a_crafted_grade_id_stays_inside_its_code_span():
    nb = new_notebook(cells=[new_code_cell("x", metadata={"nbgrader": {"grade_id": "a`<img src=x onerror=alert(1)>`"}})])
    crafted = "x`\n<script>alert(1)</script>"
    add_note(nb, f"{cell_label(nb, 0)} had the unknown grade id {literal(crafted)}")
    note = nb.cells[0].source
    assert note.count("`") % 2 == 0 and "\n<script>" not in note
    html = _render(nb)
    assert _dangerous(html) == [] and "<img src=x" not in html


def test_literal_keeps_a_span_one_line_and_short():
    assert literal("a`b\nc") == "`a'b c`"
    assert len(literal("x" * 500)) < 90


def test_the_formgrader_renders_with_the_same_exporter():
    import nbgrader.server_extensions.formgrader.formgrader as formgrader

    from autograde.feedback_exporter import use_in_formgrader
    stock = formgrader.HTMLExporter
    try:
        use_in_formgrader()
        assert formgrader.HTMLExporter is FeedbackExporter
    finally:
        formgrader.HTMLExporter = stock
