"""Signs the cases in a JSON file with botocore and prints the results as JSON (one per case).

Usage: /usr/bin/python3 botocore_sign.py CASES.json
A case: {"kind": "header"|"presign", "service", "region", "access_key", "secret_key", "token",
         "timestamp": "20240101T000000Z", "method", "url", "headers": [[name, value], ...],
         "body": "...", "expires": 300}
Result: {"authorization": "..."} or {"url": "..."}.
"""
import json
import sys

import botocore_check as bc


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    out = []
    for c in cases:
        creds = bc.credentials(c['access_key'], c['secret_key'], c.get('token'))
        if c['kind'] == 'header':
            out.append({'authorization': bc.sign_headers(
                creds, c['region'], c['service'], c['timestamp'], c['method'], c['url'],
                c.get('headers', []), c.get('body', ''))})
        else:
            out.append({'url': bc.presign(
                creds, c['region'], c['service'], c['timestamp'], c['method'], c['url'],
                c.get('headers', []), c['expires'])})
    json.dump(out, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
