import unittest

from src.slug import slugify


class SlugifyTest(unittest.TestCase):
    def test_lowercases_and_hyphenates(self):
        self.assertEqual(slugify("Hello, World!"), "hello-world")

    def test_collapses_separator_runs(self):
        self.assertEqual(slugify("a  --  b"), "a-b")

    def test_underscores_become_hyphens(self):
        self.assertEqual(slugify("Using snake_case names"), "using-snake-case-names")


if __name__ == "__main__":
    unittest.main()
