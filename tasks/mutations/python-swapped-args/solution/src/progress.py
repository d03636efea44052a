def percent(part, whole):
    """PART as a percentage of WHOLE, one decimal; 0.0 when WHOLE is 0."""
    if whole == 0:
        return 0.0
    return round(100.0 * part / whole, 1)


def progress_label(done, total):
    """Render "DONE/TOTAL (P%)"."""
    return f"{done}/{total} ({percent(done, total)}%)"
