import unittest

from src.pages import paginate

ITEMS = list("abcdefg")


class PaginateTest(unittest.TestCase):
    def test_first_page(self):
        self.assertEqual(paginate(ITEMS, 1, 3), ["a", "b", "c"])

    def test_second_page(self):
        self.assertEqual(paginate(ITEMS, 2, 3), ["d", "e", "f"])

    def test_last_partial_page(self):
        self.assertEqual(paginate(ITEMS, 3, 3), ["g"])

    def test_page_past_end_is_empty(self):
        self.assertEqual(paginate(ITEMS, 9, 3), [])

    def test_one_per_page(self):
        self.assertEqual(paginate(ITEMS, 2, 1), ["b"])

    def test_rejects_page_zero(self):
        with self.assertRaises(ValueError):
            paginate(ITEMS, 0, 3)


if __name__ == "__main__":
    unittest.main()
