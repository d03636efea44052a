import ssl
import unittest

from src.billing_client import make_context


class ContextTest(unittest.TestCase):
    def test_context_is_tls_client(self):
        self.assertEqual(make_context().protocol, ssl.PROTOCOL_TLS_CLIENT)

    def test_context_verifies_certificates(self):
        context = make_context()
        self.assertEqual(context.verify_mode, ssl.CERT_REQUIRED)
        self.assertTrue(context.check_hostname)


if __name__ == "__main__":
    unittest.main()
