"""The message catalogues, kept with Babel: extract -> update -> translate -> compile, and their check.

Two gettext domains: ``course_lib`` (course_lib/locale, shipped in the wheel: every
self-check and verdict message) and ``autograde`` (autograde/locale, the grader's own: grading
notes, feedback headings). A message's id is its English text as written in the sources; Babel
finds it in ``_("…")``, ``N_("…")``, ``ngettext("…", "…", n)`` and in the message of a diagnosis
tree's ``Outcome(credit, "…")``. The English catalogue repeats each id as its text (filled in
by ``update``); the German one is written by a translator. ``python -m autograde.catalogue
extract|update|compile|check`` (make messages-extract, messages-update, messages-compile, messages):

* extract — the template ``<locale>/<domain>.pot`` from the sources, for translation tools;
* update  — every language's .po from the sources: new ids added (German: empty, or fuzzy when
  an old text is close), removed ones kept as obsolete (``#~``), English filled in;
* compile — the .mo files the library reads with the stdlib's gettext (committed, checked current);
* check   — every problem the tests look for: an id missing from a catalogue or stale in it, an
  untranslated or fuzzy text, placeholders that differ between languages, a stray brace where the
  id is a format string, a .mo not current.
"""
from __future__ import annotations

import io
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from course_lib.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = {"course_lib": ROOT / "course_lib", "autograde": ROOT / "autograde"}
KEYWORDS = {**DEFAULT_KEYWORDS, "Outcome": (2,)}   # Outcome(credit, message, status)
# {name} of diagnose.render and str.format, %s / %(name)s of %-formatting
PLACEHOLDER = re.compile(r"\{[A-Za-z_]\w*\}|%(?:\([A-Za-z_]\w*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]")


def locale(domain: str) -> Path:
    return DOMAINS[domain] / "locale"


def po_path(domain: str, language: str) -> Path:
    return locale(domain) / language / "LC_MESSAGES" / f"{domain}.po"


def mo_path(domain: str, language: str) -> Path:
    return po_path(domain, language).with_suffix(".mo")


def extracted(domain: str) -> Catalog:
    """Every message id in the domain's sources."""
    template = Catalog(project=domain, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            DOMAINS[domain], [("**/locale/**", "ignore"), ("**.py", "python")], keywords=KEYWORDS,
            comment_tags=("Translators:",), strip_comment_tags=True):
        template.add(message, None, [(f"{DOMAINS[domain].name}/{filename}", lineno)],
                     auto_comments=comments, context=context)
    return template


def read(domain: str, language: str) -> Catalog:
    with open(po_path(domain, language), "rb") as f:
        return read_po(f, locale=language, domain=domain)


def write(catalog: Catalog, path: Path, **options) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        write_po(f, catalog, width=100, sort_output=True, include_lineno=False, **options)


def extract() -> None:
    for domain in DOMAINS:
        write(extracted(domain), locale(domain) / f"{domain}.pot", omit_header=True)


def update() -> None:
    for domain in DOMAINS:
        template = extracted(domain)
        for language in LANGUAGES:
            path = po_path(domain, language)
            catalog = read(domain, language) if path.exists() else Catalog(
                locale=language, domain=domain, project=domain, version="0.1.0", charset="utf-8",
                copyright_holder="the course staff", last_translator="the course staff",
                language_team="the course staff")
            catalog.update(template, update_header_comment=False, update_creation_date=False)
            catalog.fuzzy = False  # the header: a fuzzy one would keep the plural rule out of the .mo
            if language == "en":   # the ids are the English texts
                for message in catalog:
                    if message.id and (not all(texts(message)) or message.fuzzy):
                        message.string = message.id
                        message.flags.discard("fuzzy")
            write(catalog, path, omit_header=False)


def compiled(domain: str, language: str) -> bytes:
    out = io.BytesIO()
    write_mo(out, read(domain, language))
    return out.getvalue()


def compile_all() -> None:
    for domain in DOMAINS:
        for language in LANGUAGES:
            mo_path(domain, language).write_bytes(compiled(domain, language))


def texts(message) -> list[str]:
    """A message's translations: one, or one per plural form."""
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def formats(text: str) -> bool:
    """Whether str.format takes ``text`` with its {name} fields (a stray brace would raise where it is shown)."""
    try:
        text.format(**{field[1:-1]: "" for field in placeholders(text) if field.startswith("{")})
    except (ValueError, KeyError, IndexError):
        return False
    return True


def problems(domain: str, language: str) -> list[str]:
    """What is wrong with one catalogue, one line each; empty when it is complete and current."""
    found = []
    ids = {m.id if isinstance(m.id, str) else m.id[0]: m for m in extracted(domain) if m.id}
    catalog = read(domain, language)
    entries = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    found += [f"missing: {i!r}" for i in sorted(ids.keys() - entries.keys())]
    found += [f"stale: {i!r}" for i in sorted(entries.keys() - ids.keys())]
    for key, message in sorted(entries.items()):
        if message.fuzzy or not all(texts(message)):
            found.append(f"{'fuzzy' if message.fuzzy else 'untranslated'}: {key!r}")
        elif any(placeholders(text) != placeholders(key) for text in texts(message)):
            found.append(f"placeholders differ: {key!r}")
        elif formats(key) and not all(map(formats, texts(message))):
            found.append(f"not a format string like its id: {key!r}")
    if not mo_path(domain, language).exists() or mo_path(domain, language).read_bytes() != compiled(domain, language):
        found.append(f"{mo_path(domain, language).relative_to(ROOT)} is not compiled from its .po")
    return found


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "extract":
        extract()
    elif command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        found = [f"{domain}/{language}: {p}" for domain in DOMAINS for language in LANGUAGES
                 for p in problems(domain, language)]
        print("\n".join(found) or "the catalogues are complete and current")
        return 1 if found else 0
    else:
        print("usage: python -m autograde.catalogue extract|update|compile|check", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
