"""OPC UA: an asyncua server in its own thread and event loop, with per cell a result
object in the manner of OPC 40100 (Machine Vision), rewritten as each sentence is stored.

The address space (namespace :attr:`OpcuaSettings.namespace`, string node ids)::

    Objects/CastsightStation            ns=N;s=castsight
        SystemState                     "Operational" while the station runs (40100's
                                        vision state machine: Preoperational, Operational,
                                        Halted, Error)
        <cell>/Result                   ns=N;s=castsight.<cell>.Result
            ResultId      String        the part's id in the store; written last, so a
                                        client that sees it change reads a whole result
            PartId        String        the part's serial
            ResultState   Int32         40100's ResultStateDataType: 0 Undefined (none
                                        yet), 1 Completed, 4 Failed (NoTest)
            Sentence      String        OK | NG | REVIEW
            SentenceCode  Int32         :data:`SENTENCE_CODES`: 0 none, 1 OK, 2 NG, 3 REVIEW
            NoTest        Boolean       not inspected (timeout, error, missing view):
                                        always REVIEW
            Reasons       String[]
            CreationTime  DateTime      part received (acknowledged)
            ProcessingEndTime DateTime  sentence stored
            SoftwareVersion, PlanHash, ModelHash   String (sha256; "" for no model)

40100 keeps the processing state (ResultState) apart from the verdict (its result
content); the verdict here is Sentence/SentenceCode.

Security (:class:`OpcuaSettings`): the endpoints offered are the settings'
``security_policies`` (Basic256Sha256 Sign and SignAndEncrypt by default; ``None`` only
when listed), with the server's certificate from
:func:`castsight.station.signals.certificates.server_certificate`. asyncua's server
opens an unsecured channel whatever is offered (for GetEndpoints) and would activate a
session on it, so the station's user manager refuses a session on a channel without a
client certificate unless ``None`` is offered, one whose certificate is not in
``trusted_clients`` (when given), and, with ``login: station-users``, one that is not a
station user's name and password. No session is ever an administrator (asyncua's default
makes a user named "admin" one, whatever the password, and lets it write): clients read.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar, get_args

from asyncua import ua
from asyncua.common.utils import ServiceError
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.crypto.truststore import TrustStore
from asyncua.crypto.validator import CertificateValidator, CertificateValidatorOptions
from asyncua.server.internal_server import InternalServer
from asyncua.server.server import Server
from asyncua.server.user_managers import UserManager
from asyncua.ua.status_codes import StatusCodes, get_name_and_doc
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from castsight.errors import CastsightError
from castsight.io.files import atomic_write_bytes
from castsight.station.settings import OpcuaSecurityPolicy, OpcuaSettings, StorageSettings
from castsight.station.signals import SentenceMessage
from castsight.station.signals.certificates import (
    ServerCertificate,
    default_application_uri,
    server_certificate,
    thumbprint,
)

log = logging.getLogger("castsight.station.signals.opcua")

T = TypeVar("T")

SENTENCE_CODES = {"OK": 1, "NG": 2, "REVIEW": 3}
"""SentenceCode's values (0: no result yet)."""
COMPLETED, FAILED = 1, 4
"""40100 ResultStateDataType values used: processing completed; failed (NoTest)."""
NULL_TIME = dt.datetime(1601, 1, 1, tzinfo=dt.UTC)
"""OPC UA's null DateTime (before any result)."""

V = ua.VariantType
RESULT_VARIABLES: dict[str, tuple[Any, ua.VariantType]] = {
    "PartId": ("", V.String),
    "ResultState": (0, V.Int32),
    "Sentence": ("", V.String),
    "SentenceCode": (0, V.Int32),
    "NoTest": (False, V.Boolean),
    "Reasons": ([], V.String),
    "CreationTime": (NULL_TIME, V.DateTime),
    "ProcessingEndTime": (NULL_TIME, V.DateTime),
    "SoftwareVersion": ("", V.String),
    "PlanHash": ("", V.String),
    "ModelHash": ("", V.String),
    "ResultId": ("", V.String),
}
"""Each result variable: initial value and type (in write order: ResultId last)."""

POLICIES = {
    name: ua.SecurityPolicyType.NoSecurity if name == "None" else ua.SecurityPolicyType[name]
    for name in get_args(OpcuaSecurityPolicy)
}
"""The settings' policy names and asyncua's."""

Login = Callable[[str, str], bool]
"""Whether a name and password are a station user's (``login: station-users``)."""


def node_id(cell: str, variable: str | None = None) -> str:
    """The string identifier of a cell's result object or one of its variables.

    >>> node_id("cell-1"), node_id("cell-1", "PartId")
    ('castsight.cell-1.Result', 'castsight.cell-1.Result.PartId')
    """
    base = f"castsight.{cell}.Result"
    return f"{base}.{variable}" if variable else base


def result_values(message: SentenceMessage) -> dict[str, Any]:
    """The result variables' values for ``message`` (a NoTest part is REVIEW, Failed).

    >>> t = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
    >>> m = SentenceMessage(part_id=3, serial="P1", cell="c1", sentence="REVIEW", no_test=True,
    ...                     reasons=("inspection timed out after 5 s",), received_at=t,
    ...                     sentenced_at=t, software="0.1.0", plan_sha256="ab", model_sha256=None)
    >>> v = result_values(m)
    >>> v["Sentence"], v["SentenceCode"], v["ResultState"], v["ModelHash"], v["ResultId"]
    ('REVIEW', 3, 4, '', '3')
    """
    sentence = "REVIEW" if message.no_test else message.sentence
    return {
        "PartId": message.serial,
        "ResultState": FAILED if message.no_test else COMPLETED,
        "Sentence": sentence,
        "SentenceCode": SENTENCE_CODES.get(sentence, SENTENCE_CODES["REVIEW"]),
        "NoTest": message.no_test,
        "Reasons": list(message.reasons),
        "CreationTime": message.received_at,
        "ProcessingEndTime": message.sentenced_at,
        "SoftwareVersion": message.software,
        "PlanHash": message.plan_sha256 or "",
        "ModelHash": message.model_sha256 or "",
        "ResultId": str(message.part_id),
    }


class OpcuaPublisher:
    """Serves the cells' results on OPC UA; started here, stopped by :meth:`close`.

    Parameters
    ----------
    settings : OpcuaSettings
        Host, port, namespace, timeout, security.
    cells : sequence of str
        The cells to publish (one result object each).
    storage : StorageSettings
        The data folder: the generated certificate, refused client certificates.
    login : callable, optional
        Checks a client's user name and password (needed with ``login: station-users``).

    Raises
    ------
    CastsightError
        The server cannot start (the port taken, the host unknown, its certificate
        unusable, ``trusted_clients`` missing).
    """

    name = "opcua"

    def __init__(
        self,
        settings: OpcuaSettings,
        cells: Sequence[str],
        *,
        storage: StorageSettings,
        login: Login | None = None,
    ) -> None:
        self.settings = settings
        self.cells = tuple(cells)
        self.namespace_index = 0
        if settings.login == "station-users" and login is None:
            raise CastsightError(settings.endpoint(), "login: station-users without a user store")
        self._login = login if settings.login == "station-users" else None
        if settings.trusted_clients is not None and not settings.trusted_clients.is_dir():
            raise CastsightError(settings.trusted_clients, "the trusted client folder is missing")
        self.certificate: ServerCertificate | None = (
            server_certificate(settings, storage) if settings.secured() else None
        )
        self._rejected = settings.rejected_folder(storage)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="castsight-opcua", daemon=True
        )
        self._thread.start()
        self._server: Server | None = None
        try:
            self._call(self._start(), self.settings.start_timeout_s)
        except Exception as err:
            self._end_loop()
            raise CastsightError(
                settings.endpoint(), f"OPC UA server not started ({type(err).__name__}: {err})"
            ) from None

    def publish(self, message: SentenceMessage) -> None:
        """Write ``message`` into its cell's result (an unknown cell or a timeout is
        logged, not raised)."""
        if message.cell not in self.cells:
            log.warning("OPC UA: part %s of unknown cell %r", message.serial, message.cell)
            return
        try:
            self._call(self._write(message.cell, result_values(message)))
        except TimeoutError:
            log.warning(
                "OPC UA: part %s not written within %.1f s",
                message.serial,
                self.settings.timeout_s,
            )

    def close(self) -> None:
        """Stop the server and its thread."""
        if self._server is not None:
            try:
                self._call(self._stop())
            except Exception as err:  # stopping: log and go on
                log.warning("OPC UA server stop: %s", err)
        self._end_loop()

    def _call(self, coro: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        """Run ``coro`` in the server's loop; its result within ``timeout_s`` (None: the
        settings' ``timeout_s``)."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(self.settings.timeout_s if timeout_s is None else timeout_s)
        except TimeoutError:
            future.cancel()
            raise

    def _end_loop(self) -> None:
        """Cancel what the server left running, stop the loop, join its thread."""
        try:
            self._call(_cancel_others())
        except Exception as err:  # stopping: log and go on
            log.warning("OPC UA server tasks: %s", err)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(self.settings.timeout_s)
        if not self._thread.is_alive():
            self._loop.close()

    async def _start(self) -> None:
        trust = None
        if self.settings.secured() and self.settings.trusted_clients is not None:
            trust = TrustStore([self.settings.trusted_clients], [])
            await trust.load()
        gate = _Gate(
            unsecured="None" in self.settings.security_policies, trust=trust, login=self._login
        )
        server = Server(user_manager=gate)
        await server.init()
        server.set_endpoint(self.settings.endpoint())
        server.set_server_name("castsight station")
        server.application_type = ua.ApplicationType.Server
        server.allow_remote_admin(False)
        cert = self.certificate
        await server.set_application_uri(
            cert.application_uri
            if cert
            else self.settings.application_uri or default_application_uri()
        )
        server.set_security_policy([POLICIES[p] for p in self.settings.security_policies])
        if cert is not None:
            await server.load_certificate(cert.certificate)
            await server.load_private_key(cert.private_key)
        server.set_identity_tokens(
            [ua.UserNameIdentityToken] if self._login else [ua.AnonymousIdentityToken]
        )
        if trust is not None:
            server.set_certificate_validator(self._validator(trust))
        ns = await server.register_namespace(self.settings.namespace)
        station = await server.nodes.objects.add_object(
            _nid("castsight", ns), ua.QualifiedName("CastsightStation", ns)
        )
        await station.add_variable(
            _nid("castsight.SystemState", ns),
            ua.QualifiedName("SystemState", ns),
            ua.Variant("Preoperational", V.String),
        )
        for cell in self.cells:
            folder = await station.add_object(
                _nid(f"castsight.{cell}", ns), ua.QualifiedName(cell, ns)
            )
            result = await folder.add_object(
                _nid(node_id(cell), ns), ua.QualifiedName("Result", ns)
            )
            for name, (value, kind) in RESULT_VARIABLES.items():
                await result.add_variable(
                    _nid(node_id(cell, name), ns),
                    ua.QualifiedName(name, ns),
                    ua.Variant(value, kind),
                )
        await server.start()
        self._server, self.namespace_index = server, ns
        await self._set("castsight.SystemState", "Operational", V.String)
        log.info(
            "OPC UA server on %s (namespace %d; %s; certificate SHA-1 %s; clients: %s; %s)",
            self.settings.endpoint(),
            ns,
            ", ".join(self.settings.security_policies),
            cert.sha1 if cert else "none",
            self.settings.trusted_clients or "any certificate",
            self.settings.login,
        )
        if self.settings.secured() and trust is None:
            log.warning("OPC UA: any client certificate is accepted (no trusted_clients)")

    def _validator(
        self, trust: TrustStore
    ) -> Callable[[x509.Certificate, ua.ApplicationDescription], Coroutine[Any, Any, None]]:
        """Checks a client's certificate at CreateSession (time, ApplicationUri, key
        usage, trusted); one refused as untrusted is kept in the rejected folder."""
        check = CertificateValidator(
            CertificateValidatorOptions.TRUSTED_VALIDATION
            | CertificateValidatorOptions.PEER_CLIENT,
            trust,
        )
        rejected = self._rejected

        async def validate(cert: x509.Certificate, app: ua.ApplicationDescription) -> None:
            try:
                await check.validate(cert, app)
            except ServiceError as err:
                log.warning(
                    "OPC UA: client %s (certificate SHA-1 %s) refused: %s",
                    app.ApplicationUri,
                    thumbprint(cert),
                    get_name_and_doc(err.code)[0],
                )
                if err.code == StatusCodes.BadCertificateUntrusted:
                    _keep(rejected / f"{thumbprint(cert)}.der", cert)
                raise

        return validate

    async def _write(self, cell: str, values: dict[str, Any]) -> None:
        for name, (_, kind) in RESULT_VARIABLES.items():
            await self._set(node_id(cell, name), values[name], kind)

    async def _set(self, identifier: str, value: Any, kind: ua.VariantType) -> None:
        assert self._server is not None
        variant = ua.Variant(value, kind)
        await self._server.write_attribute_value(
            _nid(identifier, self.namespace_index), ua.DataValue(variant)
        )

    async def _stop(self) -> None:
        assert self._server is not None
        await self._set("castsight.SystemState", "Halted", V.String)
        await self._server.stop()
        self._server = None


class _Gate(UserManager):
    """Who may activate a session: a secured channel (unless ``None`` is offered), a
    trusted client certificate (when a folder is given), a station user (with
    ``station-users``). Every session reads; none is an administrator."""

    def __init__(self, *, unsecured: bool, trust: TrustStore | None, login: Login | None) -> None:
        self.unsecured = unsecured
        self.trust = trust
        self.login = login

    def get_user(
        self,
        iserver: InternalServer,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if not certificate:  # b"" on an unsecured channel
            if not self.unsecured:
                log.warning("OPC UA: a session on an unsecured channel refused")
                return None
        elif self.trust is not None and not self.trust.is_trusted(
            x509.load_der_x509_certificate(certificate)
        ):
            log.warning("OPC UA: a session with an untrusted client certificate refused")
            return None
        if self.login is not None:
            if not username or password is None or not self.login(username, password):
                log.warning("OPC UA: login refused for %r", (username or "")[:100])
                return None
            return User(role=UserRole.User, name=username)
        return User(role=UserRole.User)


def _keep(path: Path, cert: x509.Certificate) -> None:
    """Write a refused certificate for an administrator to trust (a failure is logged)."""
    try:
        if not path.exists():
            atomic_write_bytes(path, cert.public_bytes(Encoding.DER))
    except OSError as err:
        log.warning("OPC UA: refused certificate not kept (%s)", err)


def _nid(identifier: str, ns: int) -> ua.NodeId:
    """A string node id in namespace ``ns``."""
    return ua.NodeId.from_string(f"ns={ns};s={identifier}")


async def _cancel_others() -> None:
    """Cancel every other task of the running loop and wait for them."""
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


__all__ = ["POLICIES", "SENTENCE_CODES", "Login", "OpcuaPublisher", "node_id", "result_values"]
