"""The OPC UA server's application instance certificate: given in the settings, or
self-signed once at the first start into the station's data folder and used from then
on. Never replaced silently: a pair that is half missing, mismatched, expired or made
for another ApplicationUri stops the start with the reason (a client that trusted the
old certificate would otherwise be refused with no word why)."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
import socket
from dataclasses import dataclass
from pathlib import Path

from asyncua.crypto.cert_gen import generate_self_signed_app_certificate
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from castsight.errors import CastsightError
from castsight.io.files import atomic_write_bytes
from castsight.station.settings import OpcuaSettings, StorageSettings

log = logging.getLogger("castsight.station.signals.opcua")

VALID_DAYS = 5 * 365
"""A generated certificate's validity."""
KEY_BITS = 2048
"""A generated key's size (RSA; what Basic256Sha256 and the Aes policies take)."""
WARN_DAYS = 30
"""A certificate expiring within this many days is logged at every start."""


@dataclass(frozen=True)
class ServerCertificate:
    """The certificate and key the server loads."""

    certificate: Path
    private_key: Path
    application_uri: str
    """The server's ApplicationUri (in the certificate's subjectAltName)."""
    sha1: str
    """The certificate's thumbprint as OPC UA clients show it (hex, DER)."""
    not_after: dt.datetime
    generated: bool
    """Made at this start (the first)."""


def default_application_uri(hostname: str | None = None) -> str:
    """The ApplicationUri a generated certificate gets.

    >>> default_application_uri("xray-7")
    'urn:xray-7:castsight:station'
    """
    return f"urn:{hostname or socket.gethostname()}:castsight:station"


def server_certificate(
    settings: OpcuaSettings, storage: StorageSettings, *, now: dt.datetime | None = None
) -> ServerCertificate:
    """The server's certificate in force: the settings' pair, else the generated one
    (made now if there is none yet).

    Raises
    ------
    CastsightError
        A file is missing or unreadable, the key is not the certificate's, the
        certificate has expired (or is not valid yet), or it does not carry the
        settings' ``application_uri``.
    """
    cert_path, key_path = settings.certificate_files(storage)
    generated = False
    if settings.certificate is None:
        have = cert_path.exists(), key_path.exists()
        if have == (False, False):
            _generate(settings, cert_path, key_path)
            generated = True
        elif have != (True, True):
            present, missing = (cert_path, key_path) if have[0] else (key_path, cert_path)
            raise CastsightError(
                missing,
                f"the generated OPC UA certificate's pair is incomplete ({present.name} "
                "without it): remove it to generate a new pair (clients must trust the new "
                "certificate), or give signals.opcua.certificate and private_key",
            )
    now = now or dt.datetime.now(dt.UTC)
    cert = _load_certificate(cert_path)
    key = _load_key(key_path)
    if key.public_key().public_numbers() != _public_numbers(cert, cert_path):
        raise CastsightError(key_path, f"the private key is not that of {cert_path}")
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise CastsightError(
            cert_path,
            f"the OPC UA certificate is valid from {cert.not_valid_before_utc:%Y-%m-%d} to "
            f"{cert.not_valid_after_utc:%Y-%m-%d}, not now: renew it (a generated one: "
            "remove both files to generate a new pair, then have the clients trust it)",
        )
    uris = _uris(cert)
    uri = settings.application_uri or (uris[0] if uris else None)
    if uri is None or uri not in uris:
        raise CastsightError(
            cert_path,
            f"the OPC UA certificate is for {uris or 'no ApplicationUri'}, the server's is "
            f"{settings.application_uri!r}: clients refuse that; set "
            "signals.opcua.application_uri to the certificate's or give another certificate",
        )
    if cert.not_valid_after_utc - now < dt.timedelta(days=WARN_DAYS):
        log.warning(
            "OPC UA certificate %s expires on %s", cert_path, f"{cert.not_valid_after_utc:%Y-%m-%d}"
        )
    return ServerCertificate(
        cert_path,
        key_path,
        uri,
        thumbprint(cert),
        cert.not_valid_after_utc,
        generated,
    )


def thumbprint(cert: x509.Certificate) -> str:
    """The SHA-1 of the certificate's DER bytes, hex (OPC UA's certificate thumbprint)."""
    return hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _generate(settings: OpcuaSettings, cert_path: Path, key_path: Path) -> None:
    """A self-signed certificate and its key (key first: a pair half written is refused,
    never completed silently)."""
    hostname = socket.gethostname()
    uri = settings.application_uri or default_application_uri(hostname)
    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(uri), x509.DNSName(hostname)]
    if settings.host not in ("0.0.0.0", "::", hostname):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(settings.host)))
        except ValueError:
            names.append(x509.DNSName(settings.host))
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    cert = generate_self_signed_app_certificate(
        key,
        f"castsight station@{hostname}",
        {"organizationName": "castsight"},
        names,
        [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
        days=VALID_DAYS,
    )
    atomic_write_bytes(  # mkstemp: readable by the station's user only
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    atomic_write_bytes(cert_path, cert.public_bytes(serialization.Encoding.DER))
    cert_path.chmod(0o644)
    log.warning(
        "OPC UA: generated a self-signed certificate %s (ApplicationUri %s, SHA-1 %s, "
        "valid until %s); OPC UA clients must trust it",
        cert_path,
        uri,
        thumbprint(cert),
        f"{cert.not_valid_after_utc:%Y-%m-%d}",
    )


def _load_certificate(path: Path) -> x509.Certificate:
    data = _read(path)
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as err:
        raise CastsightError(path, f"not a certificate ({err})") from None


def _load_key(path: Path) -> rsa.RSAPrivateKey:
    data = _read(path)
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            key = serialization.load_pem_private_key(data, password=None)
        else:
            key = serialization.load_der_private_key(data, password=None)
    except (ValueError, TypeError) as err:
        raise CastsightError(path, f"not an unencrypted private key ({err})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CastsightError(path, "not an RSA private key (the OPC UA policies need RSA)")
    return key


def _public_numbers(cert: x509.Certificate, path: Path) -> rsa.RSAPublicNumbers:
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise CastsightError(path, "not an RSA certificate (the OPC UA policies need RSA)")
    return public.public_numbers()


def _uris(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return list(san.value.get_values_for_type(x509.UniformResourceIdentifier))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise CastsightError(path, f"cannot read ({err.strerror or err})") from None


__all__ = ["ServerCertificate", "default_application_uri", "server_certificate", "thumbprint"]
