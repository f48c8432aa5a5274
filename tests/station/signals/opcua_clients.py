"""OPC UA test clients: a client certificate, a secured or plain read of a cell's result."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asyncua import Client, ua
from asyncua.crypto.cert_gen import generate_self_signed_app_certificate
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from castsight.station.settings import OpcuaSettings
from castsight.station.signals.opcua import RESULT_VARIABLES, node_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class ClientCert:
    """A client application's certificate (DER) and key (PEM), and its ApplicationUri."""

    certificate: Path
    private_key: Path
    uri: str


def client_cert(folder: Path, name: str) -> ClientCert:
    """A self-signed client certificate as OPC UA clients make them (RSA 2048)."""
    uri = f"urn:castsight:test:{name}"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = generate_self_signed_app_certificate(
        key, name, {}, [x509.UniformResourceIdentifier(uri)], [ExtendedKeyUsageOID.CLIENT_AUTH]
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / f"{name}.der", folder / f"{name}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ClientCert(cert_path, key_path, uri)


async def connected(
    settings: OpcuaSettings,
    cert: ClientCert | None,
    user: tuple[str, str] | None = None,
    mode: ua.MessageSecurityMode = ua.MessageSecurityMode.SignAndEncrypt,
) -> Client:
    """A client (not yet connected): Basic256Sha256 in ``mode`` with ``cert``, or plain."""
    client = Client(settings.endpoint(), timeout=30)
    if cert is not None:
        client.application_uri = cert.uri
        await client.set_security(
            SecurityPolicyBasic256Sha256, str(cert.certificate), str(cert.private_key), mode=mode
        )
    if user is not None:
        client.set_user(user[0])
        client.set_password(user[1])
    return client


def read(
    settings: OpcuaSettings,
    cell: str,
    cert: ClientCert | None = None,
    user: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The cell's result variables and the system state, read by a client (browsing by
    name for the state, by node id for the result)."""

    async def go() -> dict[str, Any]:
        async with await connected(settings, cert, user) as client:
            ns = await client.get_namespace_index(settings.namespace)
            state = await client.nodes.objects.get_child(
                [f"{ns}:CastsightStation", f"{ns}:SystemState"]
            )
            values = {"SystemState": await state.read_value()}
            for name in RESULT_VARIABLES:
                node = client.get_node(ua.NodeId(node_id(cell, name), ns))
                values[name] = await node.read_value()
            return values

    return asyncio.run(go())
