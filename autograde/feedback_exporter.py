"""nbconvert's HTMLExporter for feedback, with its compiled templates kept between processes.

`nbgrader generate_feedback` compiles nbgrader's feedback templates (thousands of
lines of Jinja) again in every process. A batch forks one process per submission,
so every submission would pay for it (a fifth of a second); Jinja's file-system
bytecode cache (a private folder of the user's, checked against each template's
source) lets the first one compile them for all.
"""
from jinja2 import FileSystemBytecodeCache
from nbconvert.exporters import HTMLExporter


class FeedbackExporter(HTMLExporter):
    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = FileSystemBytecodeCache()
        return environment
