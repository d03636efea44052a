from src import db


def get_user(user_id):
    """The user's public record, or None when there is no such user."""
    record = db.fetch_user(user_id)
    if record is None:
        return None
    return {"id": record["id"], "name": record["name"]}


def get_users(user_ids):
    """get_user for each id, in order."""
    return [get_user(user_id) for user_id in user_ids]
