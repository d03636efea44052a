import unittest

from src.sorting import sort_items


class SortItemsTest(unittest.TestCase):
    def test_empty(self):
        self.assertEqual(sort_items([]), [])

    def test_singleton(self):
        self.assertEqual(sort_items([7]), [7])

    def test_ints_ascending(self):
        self.assertEqual(sort_items([3, 1, 2]), [1, 2, 3])

    def test_already_sorted(self):
        self.assertEqual(sort_items([1, 2, 3, 4]), [1, 2, 3, 4])

    def test_with_negatives(self):
        self.assertEqual(sort_items([0, -5, 12, -1]), [-5, -1, 0, 12])

    def test_strings_ascending(self):
        self.assertEqual(sort_items(["pear", "apple", "fig"]), ["apple", "fig", "pear"])


if __name__ == "__main__":
    unittest.main()
