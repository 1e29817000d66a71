#!/usr/bin/env python3
"""An SMTP sink for the notification tests (aiosmtpd): with CERT and KEY it requires STARTTLS
and AUTH (user USER, password PASSWORD) before mail is accepted; without, it is plain SMTP that
offers no STARTTLS. Each message is written to OUTDIR/<n>.eml with its envelope in a header."""
import os
import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

port, outdir = int(sys.argv[1]), sys.argv[2]
cert, key, user, password = (sys.argv[3:7] + [None] * 4)[:4]
count = 0


class Sink:
    async def handle_DATA(self, server, session, envelope):
        global count
        count += 1
        with open(os.path.join(outdir, f"{count}.eml.tmp"), "wb") as f:
            f.write(f"X-Envelope-From: {envelope.mail_from}\r\nX-Envelope-To: {','.join(envelope.rcpt_tos)}\r\n".encode())
            f.write(envelope.original_content)
        os.rename(os.path.join(outdir, f"{count}.eml.tmp"), os.path.join(outdir, f"{count}.eml"))
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok)


kwargs = {}
if cert:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    kwargs = dict(tls_context=context, require_starttls=True, authenticator=authenticator, auth_required=True, auth_require_tls=True)
controller = Controller(Sink(), hostname="127.0.0.1", port=port, **kwargs)
controller.start()
print("ready", flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    signal.pause()
