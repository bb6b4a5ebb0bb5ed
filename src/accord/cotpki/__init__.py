"""The certificates of the center's TAK endpoint (issue 21): its CA, enrollment by
certificate signing request, the check made on every client certificate, the TAK data
package a device imports, and the first message a plain (loopback) connection sends.

* :mod:`~accord.cotpki.ca` — the CA (ECDSA P-256) and the certificates it issues from a
  checked CSR; a device key and its CSR, made on the device's side;
* :mod:`~accord.cotpki.files` — their files: private keys mode 0600 (refused if the group
  or others may read them), certificates and requests as PEM;
* :mod:`~accord.cotpki.check` — :func:`~accord.cotpki.check.check_client_certificate`, what
  the listener asks on each handshake and on live connections;
* :mod:`~accord.cotpki.package` — the password-protected PKCS#12 bundles, the server
  preference file and the data package (``MANIFEST/manifest.xml``) ATAK imports;
* :mod:`~accord.cotpki.plain` — the ``<auth>`` message a plain-port connection must send
  first (its token), parsed strictly.

Pure apart from :mod:`~accord.cotpki.files`: no clock (time is an argument), no network.
The center never holds a party's private key (DECISIONS 7): a device's key is made where it
is used, and only its request reaches the center.
"""

from __future__ import annotations
