import unittest

from src.reverse import reverse


class ReverseTest(unittest.TestCase):
    def test_empty(self):
        self.assertEqual(reverse(""), "")

    def test_single_char(self):
        self.assertEqual(reverse("a"), "a")

    def test_word(self):
        self.assertEqual(reverse("robot"), "tobor")

    def test_with_spaces(self):
        self.assertEqual(reverse("I'm hungry!"), "!yrgnuh m'I")

    def test_palindrome_stays(self):
        self.assertEqual(reverse("racecar"), "racecar")

    def test_unicode(self):
        self.assertEqual(reverse("añoß→"), "→ßoña")


if __name__ == "__main__":
    unittest.main()
