import unittest

from src.progress import percent, progress_label


class ProgressTest(unittest.TestCase):
    def test_percent(self):
        self.assertEqual(percent(1, 4), 25.0)

    def test_quarter(self):
        self.assertEqual(progress_label(1, 4), "1/4 (25.0%)")

    def test_one_third(self):
        self.assertEqual(progress_label(1, 3), "1/3 (33.3%)")

    def test_complete(self):
        self.assertEqual(progress_label(5, 5), "5/5 (100.0%)")

    def test_nothing_done(self):
        self.assertEqual(progress_label(0, 8), "0/8 (0.0%)")

    def test_zero_total(self):
        self.assertEqual(progress_label(0, 0), "0/0 (0.0%)")


if __name__ == "__main__":
    unittest.main()
