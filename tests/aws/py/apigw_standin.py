"""A loopback stand-in for the API Gateway Management API that checks every request's SigV4
signature with botocore and answers with scripted statuses.

Usage: /usr/bin/python3 apigw_standin.py ACCESS_KEY SECRET_KEY TOKEN REGION
Prints {"port": N} once listening; exits when stdin closes.
  POST <stage>/@connections/<id>   -> next scripted status (default 200); 403 on a bad signature
  POST /_control/script            body {"statuses": [410, 429, ...]} replaces the script
  GET  /_control/requests          every request seen: {path, connectionId, body, status, error}
"""
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore_check as bc

ACCESS_KEY, SECRET_KEY, TOKEN, REGION = sys.argv[1:5]
CREDS = bc.credentials(ACCESS_KEY, SECRET_KEY, TOKEN)
LOCK = threading.Lock()
SCRIPT = []
SEEN = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'  # keep-alive, as API Gateway does

    def log_message(self, *args):
        pass

    def _reply(self, status, body=b''):
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        length = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(length) if length else b''

    def do_GET(self):
        if self.path == '/_control/requests':
            with LOCK:
                self._reply(200, json.dumps(SEEN).encode())
            return
        self._reply(404)

    def do_POST(self):
        body = self._body()
        if self.path == '/_control/script':
            with LOCK:
                SCRIPT[:] = json.loads(body)['statuses']
            self._reply(200)
            return
        raw_path = self.path.split('?', 1)[0]
        marker = '/@connections/'
        if marker not in raw_path:
            self._reply(404, b'{"message":"Not Found"}')
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        url = 'http://%s%s' % (headers.get('host', ''), self.path)
        error = bc.verify_header_signed(CREDS, REGION, 'execute-api', 'POST', url, headers,
                                        body.decode('utf-8', 'replace'))
        with LOCK:
            status = 403 if error else (SCRIPT.pop(0) if SCRIPT else 200)
            SEEN.append({
                'path': raw_path,
                'connectionId': urllib.parse.unquote(raw_path.split(marker, 1)[1]),
                'body': body.decode('utf-8', 'replace'),
                'status': status,
                'error': error,
            })
        messages = {403: b'{"message":"Forbidden"}', 410: b'{"message":"GoneException"}',
                    429: b'{"message":"Too Many Requests"}',
                    500: b'{"message":"Internal server error"}'}
        extra = messages.get(status, b'')
        self.send_response(status)
        if status == 410:
            self.send_header('x-amzn-ErrorType', 'GoneException')
        elif status == 429:
            self.send_header('x-amzn-ErrorType', 'LimitExceededException')
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(extra)))
        self.end_headers()
        self.wfile.write(extra)


def main():
    server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdout.write(json.dumps({'port': server.server_address[1]}) + '\n')
    sys.stdout.flush()
    sys.stdin.read()  # returns at EOF: the test is done (or gone)
    server.shutdown()


if __name__ == '__main__':
    main()
