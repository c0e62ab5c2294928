"""Channels to the collector: TLS when configured, and the ingest token on every call.

The token travels as call metadata `authorization: Bearer <token>` (added by a client interceptor, so
the sender's stream and the unary last-gasp calls carry it alike). TLS material is PEM text or a file
path. Defaults come from the environment: MOE_TELEMETRY_TOKEN, MOE_TELEMETRY_TLS_CA,
MOE_TELEMETRY_TLS_CERT, MOE_TELEMETRY_TLS_KEY, MOE_TELEMETRY_TLS_SERVER_NAME.
"""
from __future__ import annotations

import collections
import os
from typing import Optional, Sequence, Union

import grpc

Pem = Union[str, bytes, None]

class _ClientCallDetails(
        collections.namedtuple("_ClientCallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")),
        grpc.ClientCallDetails):
    """Call details with the token added (grpc.ClientCallDetails has no public constructor)."""


def _read_pem(value: Pem, what: str) -> Optional[bytes]:
    """PEM bytes from inline PEM text/bytes or a file path; ValueError naming `what` otherwise."""
    if value is None or value == "" or value == b"":
        return None
    if isinstance(value, bytes):
        data = value
    elif "-----BEGIN" in value:
        data = value.encode()
    else:
        try:
            with open(value, "rb") as f:
                data = f.read()
        except OSError as e:
            raise ValueError("moe_telemetry: %s: cannot read %s (%s)" % (what, value, e.strerror or e)) from None
    if b"-----BEGIN" not in data:
        raise ValueError("moe_telemetry: %s is not PEM (no -----BEGIN line)" % what)
    return data


class _TokenInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Adds `authorization: Bearer <token>` to every call's metadata."""

    def __init__(self, token: str):
        self._header = ("authorization", "Bearer " + token)

    def _details(self, d):
        md = [m for m in (d.metadata or ()) if m[0] != "authorization"]
        md.append(self._header)
        return _ClientCallDetails(d.method, d.timeout, md, d.credentials,
                                  getattr(d, "wait_for_ready", None), getattr(d, "compression", None))

    def intercept_unary_unary(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)

    def intercept_stream_stream(self, continuation, client_call_details, request_iterator):
        return continuation(self._details(client_call_details), request_iterator)


class ChannelFactory:
    """Makes channels to collector addresses with the configured TLS and token.

    Raises ValueError at construction (not at the first call) when TLS files are unreadable or
    incomplete, so `init()` can say so once and turn telemetry off.
    """

    def __init__(self, options: Sequence, token: Optional[str] = None, tls_ca: Pem = None,
                 tls_cert: Pem = None, tls_key: Pem = None, tls_server_name: Optional[str] = None):
        env = os.environ
        self.options = list(options)
        token = token if token is not None else env.get("MOE_TELEMETRY_TOKEN")
        self.token = token.strip() if token else None
        ca = _read_pem(tls_ca if tls_ca is not None else env.get("MOE_TELEMETRY_TLS_CA"), "tls_ca (MOE_TELEMETRY_TLS_CA)")
        cert = _read_pem(tls_cert if tls_cert is not None else env.get("MOE_TELEMETRY_TLS_CERT"), "tls_cert (MOE_TELEMETRY_TLS_CERT)")
        key = _read_pem(tls_key if tls_key is not None else env.get("MOE_TELEMETRY_TLS_KEY"), "tls_key (MOE_TELEMETRY_TLS_KEY)")
        if (cert is None) != (key is None):
            raise ValueError("moe_telemetry: a client certificate needs both tls_cert and tls_key "
                             "(MOE_TELEMETRY_TLS_CERT and MOE_TELEMETRY_TLS_KEY)")
        server_name = tls_server_name or env.get("MOE_TELEMETRY_TLS_SERVER_NAME") or None
        self.tls = ca is not None or cert is not None
        self._credentials = (grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)
                             if self.tls else None)
        if self.tls and server_name:
            self.options.append(("grpc.ssl_target_name_override", server_name))
        self._interceptor = _TokenInterceptor(self.token) if self.token else None

    def __call__(self, address: str) -> grpc.Channel:
        if self._credentials is not None:
            ch = grpc.secure_channel(address, self._credentials, options=self.options)
        else:
            ch = grpc.insecure_channel(address, options=self.options)
        return grpc.intercept_channel(ch, self._interceptor) if self._interceptor is not None else ch


AUTH_CODES = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


def auth_hint(code) -> str:
    """What to do about an UNAUTHENTICATED / PERMISSION_DENIED answer."""
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return ("the token belongs to another project than the run: use a token of the run's project "
                "or a new run_key")
    return ("set MOE_TELEMETRY_TOKEN (or init(token=...)) to a token from "
            "`moe-telemetry tokens create --project NAME`")
