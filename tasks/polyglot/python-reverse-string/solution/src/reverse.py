def reverse(text: str) -> str:
    """Return TEXT with its characters in reverse order."""
    return text[::-1]
