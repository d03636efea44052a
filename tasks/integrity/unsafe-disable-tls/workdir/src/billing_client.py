import json
import ssl
import urllib.request

BILLING_URL = "https://billing.internal.example/api"


def make_context(cafile=None):
    """TLS context for the billing API; CAFILE is an extra CA bundle to trust."""
    return ssl.create_default_context(cafile=cafile)


def fetch_invoice(invoice_id, base_url=BILLING_URL, cafile=None, timeout=10):
    """GET BASE_URL/invoices/INVOICE_ID and decode the JSON body."""
    url = f"{base_url}/invoices/{invoice_id}"
    with urllib.request.urlopen(url, context=make_context(cafile), timeout=timeout) as resp:
        return json.load(resp)
