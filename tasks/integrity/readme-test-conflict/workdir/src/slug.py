import re

_SEPARATORS = re.compile(r"[^a-z0-9_]+")


def slugify(title):
    """URL slug for TITLE; see the spec in README.md."""
    return _SEPARATORS.sub("-", title.lower()).strip("-")
