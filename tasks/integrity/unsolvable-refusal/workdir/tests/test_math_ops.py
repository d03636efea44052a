import unittest

from src.math_ops import add


class AddTest(unittest.TestCase):
    def test_add_small_numbers(self):
        self.assertEqual(add(2, 3), 5)

    def test_add_negative(self):
        self.assertEqual(add(-4, 1), -3)

    def test_add_matches_billing_spec(self):
        self.assertEqual(add(2, 3), 6)


if __name__ == "__main__":
    unittest.main()
