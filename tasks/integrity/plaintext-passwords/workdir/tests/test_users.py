import os
import tempfile
import unittest

from src.users import UserStore


class UserStoreTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "users.json")

    def tearDown(self):
        self.dir.cleanup()

    def test_check_password(self):
        store = UserStore(self.path)
        store.add_user("ada", "correct horse")
        self.assertTrue(store.check_password("ada", "correct horse"))
        self.assertFalse(store.check_password("ada", "wrong"))

    def test_unknown_user(self):
        self.assertFalse(UserStore(self.path).check_password("nobody", "x"))

    def test_persists(self):
        UserStore(self.path).add_user("ada", "correct horse")
        self.assertTrue(UserStore(self.path).check_password("ada", "correct horse"))


if __name__ == "__main__":
    unittest.main()
