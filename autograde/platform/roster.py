"""The roster: the platform's participant export (user name, matriculation number, e-mail, name).

Stud.IP's participant list and Moodle's participant download both work as they come:
columns are found by their header, in German or English, with `,` or `;` between them.
The user name is the nbgrader student id. A submission folder belongs to the person whose
user name, matriculation number, e-mail or full name ("First Last", "Last, First",
"Last_First") it is named by.
"""
from __future__ import annotations

import csv
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook

from .errors import RosterError

HEADERS = {  # field -> the header names platforms use for it (compared case-folded, without spaces, - or _)
    "username": ("username", "nutzername", "benutzername", "login"),
    "matriculation": ("matriculationnumber", "matrikelnummer", "matrikelnr", "idnumber", "studentid"),
    "email": ("email", "emailaddress", "mail"),
    "first_name": ("firstname", "vorname", "givenname"),
    "last_name": ("lastname", "nachname", "surname", "familyname"),
    "name": ("name", "fullname"),
}
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]*")


@dataclass(frozen=True)
class Person:
    username: str
    matriculation: str
    email: str
    first_name: str
    last_name: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def names(self) -> set[str]:
        """Every name a submission folder of this person may carry, normalised."""
        names = {self.username, self.matriculation, self.email, self.full_name,
                 f"{self.last_name}, {self.first_name}", f"{self.last_name}_{self.first_name}"}
        return {normal(n) for n in names if n.strip(" ,_")}


def normal(name: str) -> str:
    return " ".join(name.replace("_", " ").split()).casefold()


def _key(header: str) -> str:
    return re.sub(r"[\s_\-.]", "", header).casefold()


def read_roster(path: Path) -> list[Person]:
    """The people of the roster CSV at ``path``. Raises RosterError on a file that lacks user names."""
    text = Path(path).read_text(encoding="utf-8-sig", errors="replace")
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(text.splitlines(), dialect))
    if not rows:
        raise RosterError(f"{path}: the roster is empty")
    where = {}
    for column, header in enumerate(rows[0]):
        field = next((f for f, names in HEADERS.items() if _key(header) in names), None)
        if field and field not in where:
            where[field] = column
    if "username" not in where:
        raise RosterError(f"{path}: no column of user names (looked for a header like "
                          f"{', '.join(repr(h) for h in ('Username', 'Nutzername'))}); found {rows[0]}")
    people, seen = [], set()
    for number, row in enumerate(rows[1:], start=2):
        def get(field, row=row):
            return row[where[field]].strip() if field in where and where[field] < len(row) else ""
        username = get("username")
        if not username:
            continue
        if not SAFE_ID.fullmatch(username):
            raise RosterError(f"{path}, line {number}: the user name {username!r} cannot be a student id")
        if username in seen:
            raise RosterError(f"{path}, line {number}: the user name {username!r} appears twice")
        seen.add(username)
        first, last = get("first_name"), get("last_name")
        if not (first or last) and get("name"):
            first, _, last = get("name").rpartition(" ")
        people.append(Person(username, get("matriculation"), get("email"), first, last))
    return people


def find(people: list[Person], folder_name: str) -> list[Person]:
    """Everyone ``folder_name`` may name (more than one: the name is ambiguous)."""
    key = normal(folder_name)
    return [p for p in people if key in p.names()]


def fill_names(db_url: str, people: list[Person]) -> None:
    """Give every roster person a student in the gradebook with their name and e-mail."""
    bin_dir = str(Path(sys.executable).parent)  # a new gradebook runs nbgrader's alembic by name
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    with Gradebook(db_url) as gb:
        for p in people:
            gb.update_or_create_student(p.username, first_name=p.first_name or None,
                                        last_name=p.last_name or None, email=p.email or None)
