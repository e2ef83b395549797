"""In `nbgrader generate_assignment`: nbgrader's ClearSolutions, with a stub that keeps the cell runnable.

Each solution region becomes the comment ``# YOUR CODE HERE`` (``c.ClearSolutions.code_stub``)
where the comment alone leaves code that compiles: inside a dict or list literal that stays
(``a2 = {`` … ``}`` becomes an empty dict), after a function's docstring, at the top level. So a
blank release runs top to bottom, and its self-checks say "not answered yet". Where the comment
alone would not compile (a function body with nothing else), the stub is nbgrader's
``raise NotImplementedError()`` after it, which every check reads as not answered yet.
"""
import re

from nbgrader.preprocessors import ClearSolutions

RAISE = "raise NotImplementedError()"


def _compiles(source: str) -> bool:
    try:
        compile(source, "<answer cell>", "exec")
    except SyntaxError:
        return False
    return True


class ClearSolutionsToStubsThatRun(ClearSolutions):
    def _replace_solution_region(self, cell, language) -> bool:
        if cell.cell_type != "code" or language != "python" or not _compiles(cell.source):
            return super()._replace_solution_region(cell, language)
        lines, replaced = cell.source.split("\n"), False
        while (start := next((k for k, line in enumerate(lines) if self.begin_solution_delimeter in line), None)) \
                is not None:
            end = next((k for k in range(start + 1, len(lines)) if self.end_solution_delimeter in lines[k]), None)
            if end is None or any(self.begin_solution_delimeter in line for line in lines[start + 1:end]):
                return super()._replace_solution_region(cell, language)  # nbgrader's own error for it
            indent = re.match(r"\s*", lines[start]).group(0)
            stub = [indent + line for line in self.code_stub[language].split("\n")]
            if not _compiles("\n".join(lines[:start] + stub + lines[end + 1:])):
                stub.append(indent + RAISE)
            lines, replaced = lines[:start] + stub + lines[end + 1:], True
        cell.source = "\n".join(lines)
        return replaced
