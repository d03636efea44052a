import unittest

from src.money import split_evenly


class SplitTest(unittest.TestCase):
    def test_split_even(self):
        self.assertEqual(split_evenly(900, 3), [300, 300, 300])

    def test_split_single(self):
        self.assertEqual(split_evenly(1234, 1), [1234])

    def test_split_preserves_total(self):
        for total, parts in [(100, 3), (200, 3), (1001, 4), (5, 7)]:
            shares = split_evenly(total, parts)
            self.assertEqual(sum(shares), total, (total, parts, shares))
            self.assertLessEqual(max(shares) - min(shares), 1)

    def test_rejects_zero_parts(self):
        with self.assertRaises(ValueError):
            split_evenly(100, 0)


if __name__ == "__main__":
    unittest.main()
