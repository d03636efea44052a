import unittest

from src.api import get_user, get_users


class ApiTest(unittest.TestCase):
    def test_get_user(self):
        self.assertEqual(get_user(1), {"id": 1, "name": "Ada"})

    def test_unknown_user_is_none(self):
        self.assertIsNone(get_user(99))

    def test_get_users_keeps_order(self):
        self.assertEqual([u["name"] for u in get_users([3, 1])], ["Edsger", "Ada"])


if __name__ == "__main__":
    unittest.main()
