"""A loopback HTTPS server for the client's TLS tests: serves CERT/KEY, answers every GET with
200 "ok" (keep-alive) and reports the SNI name the client sent.

Usage: /usr/bin/python3 tls_server.py CERT KEY     prints {"port": N}; exits when stdin closes.
GET /sni answers the server name of the current connection's handshake.
"""
import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAST_SNI = {'name': None}


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = (LAST_SNI['name'] or '').encode() if self.path == '/sni' else b'ok'
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[1], sys.argv[2])

    def remember(sock, name, ctx):
        LAST_SNI['name'] = name

    context.sni_callback = remember
    server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdout.write(json.dumps({'port': server.server_address[1]}) + '\n')
    sys.stdout.flush()
    sys.stdin.read()
    server.shutdown()


if __name__ == '__main__':
    main()
