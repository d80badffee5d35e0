"""Autodiscovers, authenticates with NTLM and lists the inbox of jdoe@contoso.com with
exchangelib, against a fake CAS on loopback. Usage: exchangelib_list_inbox.py PORT CA_FILE

exchangelib autodiscovers at https://<email domain>/Autodiscover/Autodiscover.xml on port 443
(then autodiscover.<domain>, DNS SRV ...), and checks each host name in DNS first. Neither can
reach a loopback test server, so step 1 of its discovery is pointed at the fake CAS's port and
the DNS check is skipped. Everything else is exchangelib's own: the unauthenticated POST that
picks the auth type from WWW-Authenticate, the NTLM handshake, parsing the POX response, and the
EWS calls to the URL that response names.
"""
import os
import sys

port, ca_file = sys.argv[1], sys.argv[2]
os.environ["REQUESTS_CA_BUNDLE"] = ca_file

from exchangelib import DELEGATE, Account, Credentials  # noqa: E402
from exchangelib.autodiscover import clear_cache  # noqa: E402
from exchangelib.autodiscover.discovery import base  # noqa: E402
from exchangelib.errors import AutoDiscoverFailed  # noqa: E402


def step_1(self, hostname):
    url = f"https://127.0.0.1:{port}/{self.URL_PATH}"
    is_valid_response, ad = self._attempt_response(url=url)
    if is_valid_response:
        return self._step_5(ad=ad)
    raise AutoDiscoverFailed(f"autodiscover failed at {url}")


# exchangelib keeps discovered endpoints in a cache on disk; every run has a new port.
clear_cache()
base.BaseAutodiscovery._step_1 = step_1
base.BaseAutodiscovery._ensure_valid_hostname = lambda self, url: None

credentials = Credentials("CONTOSO\\jdoe", "P@ssw0rd")
account = Account("jdoe@contoso.com", credentials=credentials, autodiscover=True,
                  access_type=DELEGATE)
print("EWS", account.protocol.service_endpoint)
print("AUTH", account.protocol.auth_type)
print("COUNT", account.inbox.total_count)
for item in account.inbox.all().only("subject"):
    print("SUBJECT", item.subject)
