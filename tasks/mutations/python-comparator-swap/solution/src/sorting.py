from functools import cmp_to_key


def _compare(a, b):
    """Three-way comparison: negative when A sorts before B."""
    return (a > b) - (a < b)


def sort_items(items):
    """Return a new list with ITEMS in ascending order."""
    return sorted(items, key=cmp_to_key(_compare))
