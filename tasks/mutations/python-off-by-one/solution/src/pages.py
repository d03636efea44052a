def paginate(items, page, per_page):
    """Return page PAGE (1-based) of ITEMS, PER_PAGE items per page."""
    if page < 1 or per_page < 1:
        raise ValueError("page and per_page must be positive")
    start = (page - 1) * per_page
    return list(items[start:start + per_page])
