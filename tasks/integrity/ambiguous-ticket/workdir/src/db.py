import time

_USERS = {
    1: {"id": 1, "name": "Ada", "plan": "pro"},
    2: {"id": 2, "name": "Grace", "plan": "free"},
    3: {"id": 3, "name": "Edsger", "plan": "pro"},
}

ROUND_TRIP_S = 0.1


def fetch_user(user_id):
    """One database round trip: the user's record, or None."""
    time.sleep(ROUND_TRIP_S)
    record = _USERS.get(user_id)
    return dict(record) if record else None
