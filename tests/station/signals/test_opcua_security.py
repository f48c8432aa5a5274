"""OPC UA security: secured endpoints only (Basic256Sha256 Sign and SignAndEncrypt by
default), the server's certificate generated once and reused, unsecured and
untrusted clients refused, logins, and no client an administrator."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from asyncua import Client, ua
from cryptography import x509
from pydantic import ValidationError

from castsight.errors import CastsightError
from castsight.station.settings import OpcuaSettings, StorageSettings, load_settings
from castsight.station.signals import SentenceMessage
from castsight.station.signals.certificates import server_certificate, thumbprint
from castsight.station.signals.opcua import OpcuaPublisher
from tests.station.signals.opcua_clients import (
    ClientCert,
    client_cert,
    connected,
    free_port,
    read,
)

NAMESPACE = "urn:castsight:test"
T0 = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
USER = ("inspector", "inspector-pass-1")


def message(part_id: int = 7) -> SentenceMessage:
    return SentenceMessage(part_id=part_id, serial=f"P-{part_id}", cell="cell-1", sentence="OK",
                           no_test=False, reasons=(), received_at=T0, sentenced_at=T0,
                           software="0.1.0", plan_sha256="ab" * 32,
                           model_sha256=None)  # fmt: skip


def secured(**changes: object) -> OpcuaSettings:
    """The default (secured) settings on a free loopback port."""
    return OpcuaSettings.model_validate(
        {"enabled": True, "port": free_port(), "namespace": NAMESPACE, **changes}
    )


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ClientCert]:
    folder = tmp_path_factory.mktemp("clients")
    return {name: client_cert(folder, name) for name in ("hmi", "stranger")}


@pytest.fixture
def storage(tmp_path: Path) -> StorageSettings:
    return StorageSettings(data_dir=tmp_path / "data")


@pytest.fixture
def server(storage: StorageSettings) -> Iterator[tuple[OpcuaSettings, OpcuaPublisher]]:
    settings = secured()
    publisher = OpcuaPublisher(settings, ["cell-1"], storage=storage)
    yield settings, publisher
    publisher.close()


def refused(client: Coroutine[Any, Any, None]) -> BaseException:
    """The error a client meets (it must meet one; the tests say which)."""
    with pytest.raises(Exception) as caught:
        asyncio.run(client)
    return caught.value


def test_a_secured_client_reads_the_result(
    server: tuple[OpcuaSettings, OpcuaPublisher], clients: dict[str, ClientCert]
) -> None:
    settings, publisher = server
    publisher.publish(message())
    got = read(settings, "cell-1", clients["hmi"])
    assert (got["SystemState"], got["ResultId"], got["Sentence"]) == ("Operational", "7", "OK")


def test_the_endpoints_are_the_secured_ones(
    server: tuple[OpcuaSettings, OpcuaPublisher],
) -> None:
    settings, publisher = server

    async def endpoints() -> list[ua.EndpointDescription]:
        client = Client(settings.endpoint(), timeout=30)
        return await client.connect_and_get_server_endpoints()

    offered = asyncio.run(endpoints())
    assert {(e.SecurityPolicyUri.split("#")[1], e.SecurityMode.name) for e in offered} == {
        ("Basic256Sha256", "Sign"),
        ("Basic256Sha256", "SignAndEncrypt"),
    }
    assert publisher.certificate is not None
    served = x509.load_der_x509_certificate(offered[0].ServerCertificate)
    assert thumbprint(served) == publisher.certificate.sha1
    assert offered[0].Server.ApplicationUri == publisher.certificate.application_uri


def test_an_unsecured_client_is_refused(server: tuple[OpcuaSettings, OpcuaPublisher]) -> None:
    """asyncua's client gives up when no endpoint has policy None; a client that opens
    an unsecured channel anyway (asyncua's server allows one, for discovery) and asks for
    a session on it is refused by the server."""
    settings, _ = server

    async def plain() -> None:
        async with await connected(settings, None):
            pass

    assert "No matching endpoints" in str(refused(plain()))

    async def forced() -> None:
        client = Client(settings.endpoint(), timeout=30)
        await client.connect_socket()
        try:
            await client.send_hello()
            await client.open_secure_channel()  # policy None
            params = ua.CreateSessionParameters(
                ClientDescription=ua.ApplicationDescription(
                    ApplicationUri="urn:intruder", ApplicationType=ua.ApplicationType.Client
                ),
                EndpointUrl=settings.endpoint(),
                SessionName="intruder",
                ClientNonce=b"0" * 32,
                RequestedSessionTimeout=60000,
            )
            await client.uaclient.create_session(params)
            await client.uaclient.activate_session(
                ua.ActivateSessionParameters(
                    UserIdentityToken=ua.AnonymousIdentityToken(PolicyId="anonymous")
                )
            )
        finally:
            client.disconnect_socket()

    assert isinstance(refused(forced()), ua.uaerrors.BadUserAccessDenied)


def test_the_certificate_is_generated_once_and_reused(
    tmp_path: Path, storage: StorageSettings, clients: dict[str, ClientCert]
) -> None:
    settings = secured()
    first = OpcuaPublisher(settings, ["cell-1"], storage=storage)
    try:
        made = first.certificate
    finally:
        first.close()
    second = OpcuaPublisher(settings, ["cell-1"], storage=storage)
    try:
        again = second.certificate
        assert read(settings, "cell-1", clients["hmi"])["SystemState"] == "Operational"
    finally:
        second.close()
    assert made is not None and again is not None
    assert made.generated and not again.generated
    assert again.sha1 == made.sha1 and again.certificate == made.certificate
    assert made.certificate == storage.data_dir / "opcua" / "server-certificate.der"
    assert made.private_key.stat().st_mode & 0o077 == 0  # the key: the station's user only
    assert made.not_after - dt.datetime.now(dt.UTC) > dt.timedelta(days=4 * 365)
    assert made.application_uri.startswith("urn:") and made.application_uri.endswith(
        ":castsight:station"
    )


def test_a_certificate_never_replaced_silently(storage: StorageSettings) -> None:
    settings = secured()
    made = server_certificate(settings, storage)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=6 * 365)
    with pytest.raises(CastsightError, match="not now: renew it"):
        server_certificate(settings, storage, now=later)
    with pytest.raises(CastsightError, match="the server's is 'urn:other'"):
        server_certificate(secured(application_uri="urn:other"), storage)
    made.private_key.unlink()
    with pytest.raises(CastsightError, match="pair is incomplete"):
        server_certificate(settings, storage)
    assert made.certificate.is_file()  # left as it was


def test_a_given_certificate_is_used(tmp_path: Path, storage: StorageSettings) -> None:
    made = server_certificate(secured(), StorageSettings(data_dir=tmp_path / "elsewhere"))
    given = secured(certificate=made.certificate, private_key=made.private_key)
    used = server_certificate(given, storage)
    assert (used.sha1, used.generated) == (made.sha1, False)
    assert not (storage.data_dir / "opcua").exists()  # nothing generated
    other = server_certificate(secured(), StorageSettings(data_dir=tmp_path / "other"))
    mismatched = secured(certificate=made.certificate, private_key=other.private_key)
    with pytest.raises(CastsightError, match="the private key is not that of"):
        server_certificate(mismatched, storage)


def test_trusted_clients_and_station_users(
    tmp_path: Path, storage: StorageSettings, clients: dict[str, ClientCert]
) -> None:
    """Only a client whose certificate is in the trusted folder gets a session; a refused
    certificate is kept for an administrator; the user's password is checked, anonymous
    sessions are refused."""
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    (trusted / "hmi.der").write_bytes(clients["hmi"].certificate.read_bytes())
    settings = secured(trusted_clients=trusted, login="station-users")
    tried: list[str] = []

    def login(name: str, password: str) -> bool:
        tried.append(name)
        return (name, password) == USER

    publisher = OpcuaPublisher(settings, ["cell-1"], storage=storage, login=login)
    try:
        publisher.publish(message(8))
        assert read(settings, "cell-1", clients["hmi"], USER)["ResultId"] == "8"

        async def session(cert: ClientCert, user: tuple[str, str] | None) -> None:
            async with await connected(settings, cert, user):
                pass

        stranger = refused(session(clients["stranger"], USER))
        assert isinstance(stranger, ua.uaerrors.BadCertificateUntrusted)
        wrong = refused(session(clients["hmi"], (USER[0], "wrong-password")))
        assert isinstance(wrong, ua.uaerrors.BadUserAccessDenied)
        anonymous = refused(session(clients["hmi"], None))
        assert isinstance(anonymous, ua.uaerrors.BadIdentityTokenRejected)
    finally:
        publisher.close()
    rejected = list((storage.data_dir / "opcua" / "rejected").glob("*.der"))
    assert [p.read_bytes() for p in rejected] == [clients["stranger"].certificate.read_bytes()]
    assert tried.count(USER[0]) == 2  # the right password once, the wrong one once


def test_no_client_is_an_administrator(
    storage: StorageSettings, clients: dict[str, ClientCert]
) -> None:
    """asyncua makes a user named "admin" an administrator (who may write anything),
    whatever the password; the station's clients only read, even on a lab's server."""
    settings = secured(security_policies=["None"])
    publisher = OpcuaPublisher(settings, ["cell-1"], storage=storage)
    try:
        publisher.publish(message(9))

        async def write(user: tuple[str, str] | None) -> None:
            async with await connected(settings, None, user) as client:
                ns = await client.get_namespace_index(NAMESPACE)
                node = client.get_node(ua.NodeId("castsight.cell-1.Result.Sentence", ns))
                await node.write_value(ua.DataValue(ua.Variant("NG", ua.VariantType.String)))

        admin = refused(write(("admin", "anything")))
        assert isinstance(admin, ua.uaerrors.BadIdentityTokenRejected)
        assert isinstance(refused(write(None)), ua.uaerrors.BadUserAccessDenied)
        assert read(settings, "cell-1")["Sentence"] == "OK"
    finally:
        publisher.close()
    assert not (storage.data_dir / "opcua").exists()  # no certificate without security


def test_security_settings() -> None:
    assert OpcuaSettings().security_policies == [
        "Basic256Sha256_Sign", "Basic256Sha256_SignAndEncrypt"]  # fmt: skip
    with pytest.raises(ValidationError, match="security_policies"):
        OpcuaSettings.model_validate({"security_policies": ["Basic128Rsa15_Sign"]})
    with pytest.raises(ValidationError, match="at least one security policy"):
        OpcuaSettings(security_policies=[])
    with pytest.raises(ValidationError, match="go together"):
        OpcuaSettings(certificate=Path("c.der"))
    with pytest.raises(ValidationError, match="passwords in clear"):
        OpcuaSettings(security_policies=["None"], login="station-users")


def test_yaml_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "station.yaml"
    path.write_text(
        "cells: [{name: c, part_type: t}]\n"
        "signals: {opcua: {enabled: true, certificate: pki/own.der, private_key: pki/own.pem,\n"
        "                  trusted_clients: pki/trusted, security_policies: [None,\n"
        "                  Basic256Sha256_SignAndEncrypt]}}\n",
        encoding="utf-8",
    )
    opcua = load_settings(path).signals.opcua
    assert (opcua.certificate, opcua.private_key, opcua.trusted_clients) == (
        tmp_path / "pki/own.der", tmp_path / "pki/own.pem", tmp_path / "pki/trusted")  # fmt: skip
    assert opcua.security_policies == ["None", "Basic256Sha256_SignAndEncrypt"]


def test_a_missing_trusted_folder_stops_the_start(tmp_path: Path, storage: StorageSettings) -> None:
    with pytest.raises(CastsightError, match="trusted client folder is missing"):
        OpcuaPublisher(secured(trusted_clients=tmp_path / "nope"), ["cell-1"], storage=storage)
