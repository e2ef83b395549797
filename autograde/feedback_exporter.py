"""nbconvert's HTMLExporter for feedback, with its compiled templates kept between processes.

`nbgrader generate_feedback` compiles nbgrader's feedback templates (thousands of
lines of Jinja) again in every process. A batch forks one process per submission,
so every submission would pay for it (a fifth of a second); Jinja's file-system
bytecode cache (a private folder of the user's, checked against each template's
source) lets the first one compile them for all.

nbgrader's template shows a cell nobody has scored yet (a written answer waiting for a
tutor) as "Score: 0.0 / 0.5"; for the cells that steps.GetGradesMarkingWaiting marked, the
exporter says instead that they wait for a tutor.
"""
import re

from jinja2 import FileSystemBytecodeCache
from nbconvert.exporters import HTMLExporter


class FeedbackExporter(HTMLExporter):
    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = FileSystemBytecodeCache()
        return environment

    def _preprocess(self, nb, resources):
        nb, resources = super()._preprocess(nb, resources)  # on the copy the template renders
        resources["waiting_cells"] = waiting_cells(nb)
        return nb, resources

    def from_notebook_node(self, nb, resources=None, **kw):
        output, resources = super().from_notebook_node(nb, resources, **kw)
        return label_waiting_cells(output, resources.get("waiting_cells", {})), resources


def waiting_cells(nb) -> dict[str, float]:
    """grade id -> points of each graded cell that waits for a tutor."""
    return {meta["grade_id"]: float(meta.get("points") or 0) for cell in nb.cells
            if (meta := cell.metadata.get("nbgrader", {})).get("grade") and meta.get("waiting")}


def label_waiting_cells(html: str, waiting: dict[str, float]) -> str:
    """The feedback HTML with "waiting for a tutor" where the template printed 0 for those cells."""
    for grade_id, points in waiting.items():
        shown = f"{round(points, 2)}"  # as the template's `| float | round(2)` prints it
        note = f"waiting for a tutor ({shown} points)"
        gid = re.escape(grade_id)
        html = re.sub(rf'(<a href="#{gid}">[^<]*</a>) \(Score: [^)]*\)', rf"\1 ({note})", html)
        html = re.sub(rf'(<a name="{gid}"></a><div class="panel-heading">.*?)Score: [\d.]+ / [\d.]+',
                      lambda m: m.group(1) + note[0].upper() + note[1:], html, count=1, flags=re.S)
    if waiting:
        total = f"{round(sum(waiting.values()), 2)}"
        html = re.sub(r"(<h4>[^<]*\(Score: [\d.]+ / [\d.]+)\)</h4>", rf"\1; {total} waiting for a tutor)</h4>",
                      html, count=1)
    return html
