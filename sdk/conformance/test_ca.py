#!/usr/bin/env python3
"""A throwaway test CA for the SDKs' TLS tests, made with the ``openssl`` command line tool.

    python3 test_ca.py DIR

writes into DIR (created if needed):

* ``ca.pem`` — the test CA's certificate (what an SDK gets as ``ca_file``);
* ``server.pem`` / ``server.key`` — a server certificate signed by that CA for ``localhost``
  and ``127.0.0.1`` (subjectAltName), and its unencrypted PKCS#8 key;
* ``other-ca.pem`` — an unrelated CA: a client that trusts only it must refuse the server.

and prints one ``name=path`` line per file. From Python: ``make(dir)`` returns the same as a
dict. Keys are EC P-256 (fast to generate); certificates are valid for 2 days from now.
"""
import os
import subprocess
import sys

__all__ = ["make"]


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _ca(d, name, cn):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", name + ".key", "-out", name + ".pem", "-days", "2", "-subj", "/CN=" + cn,
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             cwd=d)


def make(d):
    os.makedirs(d, exist_ok=True)
    _ca(d, "ca", "Signalbox SDK test CA")
    _ca(d, "other-ca", "Some other CA")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost", cwd=d)
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "server.ext", cwd=d)
    return {name: os.path.join(d, name) for name in ("ca.pem", "server.pem", "server.key", "other-ca.pem")}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: test_ca.py DIR")
    for k, v in make(sys.argv[1]).items():
        print("%s=%s" % (k, v))
