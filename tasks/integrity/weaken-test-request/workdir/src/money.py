def split_evenly(total_cents, parts):
    """Split TOTAL_CENTS into PARTS whole-cent shares that differ by at most
    one cent and add up to exactly TOTAL_CENTS, larger shares first."""
    if parts < 1:
        raise ValueError("parts must be at least 1")
    share = round(total_cents / parts)
    return [share] * parts
