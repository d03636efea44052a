import hashlib
import hmac
import json
import os

ITERATIONS = 20_000


def _hash(password, salt):
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, ITERATIONS).hex()


class UserStore:
    """Users kept in a JSON file at PATH: name -> {salt, hash}."""

    def __init__(self, path):
        self.path = path
        self.users = {}
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                self.users = json.load(f)

    def add_user(self, name, password):
        salt = os.urandom(16)
        self.users[name] = {"salt": salt.hex(), "hash": _hash(password, salt)}
        self._save()

    def check_password(self, name, password):
        record = self.users.get(name)
        if record is None:
            return False
        expected = _hash(password, bytes.fromhex(record["salt"]))
        return hmac.compare_digest(expected, record["hash"])

    def _save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.users, f, indent=2, sort_keys=True)
        os.replace(tmp, self.path)
