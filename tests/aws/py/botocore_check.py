"""botocore (AWS's own signer) as the independent reference for the project's SigV4 code.

Run with Debian's /usr/bin/python3 (python3-botocore). Signs at a fixed time by giving
botocore.auth a clock that returns the requested timestamp.
"""
import datetime
import types

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


class _FixedDatetime(datetime.datetime):
    fixed = None

    @classmethod
    def utcnow(cls):
        return cls.fixed


botocore.auth.datetime = types.SimpleNamespace(datetime=_FixedDatetime)


def _at(timestamp):
    _FixedDatetime.fixed = datetime.datetime.strptime(timestamp, '%Y%m%dT%H%M%SZ')


def credentials(access_key, secret_key, token=None):
    return Credentials(access_key, secret_key, token or None)


def sign_headers(creds, region, service, timestamp, method, url, headers, body):
    """The Authorization header botocore computes (headers: list of pairs, host excluded)."""
    _at(timestamp)
    request = AWSRequest(method=method, url=url, data=body.encode() if body else b'',
                         headers=dict(headers))
    auth_class = botocore.auth.S3SigV4Auth if service == 's3' else botocore.auth.SigV4Auth
    auth_class(creds, service, region).add_auth(request)
    return request.headers['Authorization']


def presign(creds, region, service, timestamp, method, url, headers, expires):
    """The presigned URL botocore computes (headers: extra headers to sign, host excluded)."""
    _at(timestamp)
    request = AWSRequest(method=method, url=url, headers=dict(headers))
    auth_class = (botocore.auth.S3SigV4QueryAuth if service == 's3'
                  else botocore.auth.SigV4QueryAuth)
    auth_class(creds, service, region, expires=expires).add_auth(request)
    return request.url


def verify_header_signed(creds, region, service, method, url, headers, body):
    """Checks a received header-signed request; returns None when valid, else a reason.

    headers: dict with lowercase names, as received (Authorization among them).
    """
    authorization = headers.get('authorization', '')
    parts = dict(p.strip().split('=', 1) for p in
                 authorization.replace('AWS4-HMAC-SHA256 ', '', 1).split(','))
    signed = parts.get('SignedHeaders', '').split(';')
    timestamp = headers.get('x-amz-date')
    if not timestamp:
        return 'no x-amz-date'
    if creds.token and headers.get('x-amz-security-token') != creds.token:
        return 'session token missing or wrong'
    to_sign = [(k, v) for k, v in headers.items()
               if k in signed and k not in ('x-amz-date', 'x-amz-security-token')]
    expected = sign_headers(creds, region, service, timestamp, method, url, to_sign, body)
    if expected != authorization:
        return 'expected %s got %s' % (expected, authorization)
    return None
