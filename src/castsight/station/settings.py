"""The station's settings: cells, storage, signals; read once from a YAML file and the
environment (``CASTSIGHT_`` variables, nested with ``__``, win over the file).

>>> s = StationSettings(cells=[CellSettings(name="cell-1", part_type="generic")])
>>> s.storage.database(), s.cell("cell-1").plan
('sqlite:///castsight-data/castsight.db', 'generic')
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from castsight.errors import InputError


class WatchSettings(BaseModel):
    """A cell's watched folder (:mod:`castsight.station.watch`): a subfolder per part."""

    path: Path
    poll_s: float = Field(1.0, gt=0)
    """Seconds between two looks at the folder."""
    settle_s: float = Field(2.0, ge=0)
    """A complete part's files must be unchanged (size, mtime) this long."""


class CellSettings(BaseModel):
    """One X-ray cell: its part type, plan, active model and the views a part must have."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    """The cell's name: the URL and MQTT topic segment."""
    part_type: str = Field(min_length=1)
    plan: str = "generic"
    """A shipped plan's name or a YAML path."""
    model: Path | None = None
    """The model folder (from ``castsight teach``) activated for the part type at the
    station's first start, when none is active yet; from then on an engineer activates
    models in the UI or the API (:mod:`castsight.station.models`). None: no model."""
    detector: str = "auto"
    """A detector mode of :data:`castsight.app.DETECTORS`."""
    expected_views: list[str] | None = None
    """Views every part must have (None: the plan's, else the model's taught views)."""
    calibration: Path | None = None
    """The cell's dark/flat frames (a folder with dark.tif, flat.tif); None: none."""
    token: SecretStr | None = Field(None, min_length=16)
    """The cell's upload token (``Authorization: Bearer TOKEN`` on POST /api/parts);
    None: the cell cannot upload over HTTP (no anonymous writes)."""
    watch: WatchSettings | None = None
    """The cell's watched folder; None: none."""
    challenge: Path | None = None
    """A part folder of a known NG part: every model activated for the cell's part type
    inspects it first, and one that sentences it OK is refused. None: no challenge."""


class StorageSettings(BaseModel):
    """Where parts, records and images are kept."""

    data_dir: Path = Path("castsight-data")
    """Folder for the embedded database and the image archive (made if missing)."""
    database_url: str | None = None
    """SQLAlchemy URL (None: SQLite in WAL mode, ``DATA_DIR/castsight.db``)."""
    archive_dir: Path | None = None
    """The image archive (None: ``DATA_DIR/archive``)."""
    retention_days: int | None = Field(None, ge=1)
    """Archived images older than this may be removed (None: kept)."""

    def database(self) -> str:
        """The database URL in force."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'castsight.db').as_posix()}"

    def archive(self) -> Path:
        """The archive folder in force."""
        return self.archive_dir or self.data_dir / "archive"


class MqttSettings(BaseModel):
    """The MQTT publisher: a retained result per cell, QoS 1."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535)
    topic_prefix: str = "castsight"
    """Results go to ``PREFIX/CELL/result``."""
    qos: int = Field(1, ge=0, le=2)
    client_id: str = ""
    """Empty: the broker assigns one."""
    timeout_s: float = Field(5.0, gt=0)
    """How long a publish may wait for the broker's acknowledgement."""


OpcuaSecurityPolicy = Literal[
    "None",
    "Basic256Sha256_Sign",
    "Basic256Sha256_SignAndEncrypt",
    "Aes128Sha256RsaOaep_Sign",
    "Aes128Sha256RsaOaep_SignAndEncrypt",
    "Aes256Sha256RsaPss_Sign",
    "Aes256Sha256RsaPss_SignAndEncrypt",
]
"""An OPC UA endpoint's security policy and message security mode ("None": neither
signed nor encrypted, for a lab only)."""


class OpcuaSettings(BaseModel):
    """The OPC UA server: per cell a result object in the manner of OPC 40100 (Machine
    Vision), updated as each sentence is stored. Secured endpoints only unless
    ``security_policies`` says ``None``; see :mod:`castsight.station.signals.opcua`.

    >>> OpcuaSettings().security_policies
    ['Basic256Sha256_Sign', 'Basic256Sha256_SignAndEncrypt']
    >>> OpcuaSettings(security_policies=["None"]).secured()
    False
    """

    enabled: bool = False
    host: str = "127.0.0.1"
    """The address the server binds (``0.0.0.0``: every interface)."""
    port: int = Field(4840, ge=1, le=65535)
    namespace: str = Field("urn:castsight:station", min_length=1)
    """The namespace URI of the station's nodes."""
    timeout_s: float = Field(5.0, gt=0)
    """How long writing a result (or stopping) may take."""
    start_timeout_s: float = Field(60.0, gt=0)
    """How long starting the server may take (loading the standard address space takes
    seconds on a busy machine); a taken port fails at once, not after this."""
    security_policies: list[OpcuaSecurityPolicy] = [
        "Basic256Sha256_Sign",
        "Basic256Sha256_SignAndEncrypt",
    ]
    """The endpoints offered. ``"None"`` (no signature, no encryption) only when listed:
    a client on an unsecured channel is refused otherwise, whatever it asks for."""
    application_uri: str | None = None
    """The server's ApplicationUri; it must be in its certificate (subjectAltName URI).
    None: the certificate's; a certificate generated here gets ``urn:HOST:castsight:station``."""
    certificate: Path | None = None
    """The server's application instance certificate (DER or PEM), with ``private_key``
    (PEM or DER, unencrypted). None: a self-signed one (RSA 2048, SHA-256, 5 years) is
    generated at the first start into ``DATA_DIR/opcua/`` and used from then on; it is
    never replaced silently (an expired, mismatched or half-missing pair stops the start
    with the reason)."""
    private_key: Path | None = None
    trusted_clients: Path | None = None
    """A folder of the client certificates (DER or PEM) allowed on secured endpoints, read
    at start; a client certificate refused is kept in ``DATA_DIR/opcua/rejected/`` for an
    administrator to move there. None: any client certificate (the channel is still
    signed and encrypted, but anyone can connect)."""
    login: Literal["anonymous", "station-users"] = "anonymous"
    """``station-users``: a client logs in with a station user's name and password (any
    active user, audited as a login), anonymous sessions are refused."""

    @field_validator("security_policies")
    @classmethod
    def _policies(cls, policies: list[str]) -> list[str]:
        if not policies or len(set(policies)) != len(policies):
            raise ValueError(f"at least one security policy, each once (got {policies})")
        return policies

    @model_validator(mode="after")
    def _consistent(self) -> OpcuaSettings:
        if (self.certificate is None) != (self.private_key is None):
            raise ValueError("certificate and private_key go together")
        if self.login == "station-users" and not self.secured():
            raise ValueError("login: station-users needs a secured policy (passwords in clear)")
        return self

    def secured(self) -> bool:
        """Whether a secured endpoint is offered (then the server needs a certificate)."""
        return any(p != "None" for p in self.security_policies)

    def certificate_files(self, storage: StorageSettings) -> tuple[Path, Path]:
        """The certificate and private key in force (given, or generated in the data
        folder).

        >>> OpcuaSettings().certificate_files(StorageSettings(data_dir=Path("d")))
        (PosixPath('d/opcua/server-certificate.der'), PosixPath('d/opcua/server-key.pem'))
        """
        if self.certificate is not None and self.private_key is not None:
            return self.certificate, self.private_key
        folder = storage.data_dir / "opcua"
        return folder / "server-certificate.der", folder / "server-key.pem"

    def rejected_folder(self, storage: StorageSettings) -> Path:
        """Where refused client certificates are kept."""
        return storage.data_dir / "opcua" / "rejected"

    def endpoint(self) -> str:
        """The endpoint URL.

        >>> OpcuaSettings(port=4841).endpoint()
        'opc.tcp://127.0.0.1:4841/castsight/'
        """
        return f"opc.tcp://{self.host}:{self.port}/castsight/"


class DicomSettings(BaseModel):
    """The DICOM C-STORE intake (:mod:`castsight.station.dicom`): a Storage SCP for cells
    that push DICONDE; a part is one series (SeriesInstanceUID). Off by default."""

    enabled: bool = False
    ae_title: str = Field("CASTSIGHT", min_length=1, max_length=16, pattern=r"^[ -\[\]-~]+$")
    """The station's AE title (the called AE title a cell's SCU gives)."""
    host: str = "127.0.0.1"
    """The address the SCP binds (``0.0.0.0``: every interface)."""
    port: int = Field(11112, ge=0, le=65535)
    """The SCP's port (0: any free one, logged)."""
    calling_ae_titles: list[str] = []
    """The cells' AE titles accepted (empty: any). DICOM has no password: keep the SCP
    on the cells' network."""
    spool_dir: Path | None = None
    """Where received instances wait for their series to complete (None:
    ``DATA_DIR/dicom-spool``)."""
    series_timeout_s: float = Field(300.0, gt=0)
    """A series whose expected views are not all there this long after its first one is
    received as it is and sentenced REVIEW (NoTest), "missing view(s)"."""
    poll_s: float = Field(1.0, gt=0)
    """Seconds between two looks at the spool for series timed out."""

    def spool(self, storage: StorageSettings) -> Path:
        """The spool folder in force."""
        return self.spool_dir or storage.data_dir / "dicom-spool"


class AuthSettings(BaseModel):
    """Who may do what: session cookies for people, the first admin."""

    secret_key: SecretStr | None = Field(None, min_length=32)
    """Signs session cookies and CSRF tokens (None: a random key per process, so
    sessions end when the station restarts)."""
    session_hours: float = Field(12.0, gt=0)
    """A login lasts this long."""
    cookie_secure: bool = False
    """Send the session cookie over HTTPS only (set it behind a TLS proxy)."""
    bootstrap_admin: str | None = Field(None, min_length=1, max_length=100)
    """Created as an admin at start when the station has no user yet."""
    bootstrap_password: SecretStr | None = Field(None, min_length=8)
    """The bootstrap admin's password (``CASTSIGHT_AUTH__BOOTSTRAP_PASSWORD``)."""

    @model_validator(mode="after")
    def _bootstrap_pair(self) -> AuthSettings:
        if (self.bootstrap_admin is None) != (self.bootstrap_password is None):
            raise ValueError("bootstrap_admin and bootstrap_password go together")
        return self


class SignalSettings(BaseModel):
    """Line signals."""

    mqtt: MqttSettings = MqttSettings()
    opcua: OpcuaSettings = OpcuaSettings()


class StatisticsSettings(BaseModel):
    """The review UI's statistics and drift alarm (:mod:`castsight.station.statistics`).

    >>> StatisticsSettings(shift_starts=["22:00", 360, "14:00"]).shift_starts
    [datetime.time(6, 0), datetime.time(14, 0), datetime.time(22, 0)]
    """

    shift_starts: list[dt.time] = [dt.time(6), dt.time(14), dt.time(22)]
    """Each shift's start (plant time); a shift lasts until the next, the last past
    midnight. ``"06:00"``; YAML reads an unquoted 14:00 as 840, taken as minutes."""
    timezone: str | None = None
    """The plant's IANA time zone for the shifts (None: the station computer's)."""
    window_days: float = Field(30.0, gt=0)
    """The statistics cover the parts sentenced in the last this many days."""
    subgroup_parts: int | None = Field(None, ge=2)
    """A p-chart subgroup: this many consecutive parts (None: a shift)."""
    baseline_subgroups: int = Field(20, ge=1)
    """The centre line is the rate over the window's first this many judged subgroups;
    until there are as many, the chart is provisional and nothing alarms."""
    min_subgroup_parts: int = Field(10, ge=1)
    """A shift with fewer parts is drawn, not judged."""
    check_every_s: float = Field(60.0, gt=0)
    """How often the station recomputes the figures (a drift alarm is audited when it
    starts, and when it clears)."""

    @field_validator("shift_starts", mode="before")
    @classmethod
    def _minutes(cls, starts: object) -> object:
        if not isinstance(starts, list):
            return starts
        return [
            dt.time(s // 60, s % 60) if isinstance(s, int) and 0 <= s < 24 * 60 else s
            for s in starts
        ]

    @field_validator("shift_starts")
    @classmethod
    def _sorted(cls, starts: list[dt.time]) -> list[dt.time]:
        if not starts or len(set(starts)) != len(starts):
            raise ValueError(f"at least one shift start, each once (got {starts})")
        return sorted(starts)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str | None) -> str | None:
        if name is not None:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {name!r}") from None
        return name

    def tz(self) -> dt.tzinfo | None:
        """The shifts' time zone (None: the station computer's, daylight saving time
        included)."""
        return ZoneInfo(self.timezone) if self.timezone is not None else None


class StationSettings(BaseSettings):
    """Everything ``castsight serve`` needs; see the module docstring."""

    model_config = SettingsConfigDict(
        env_prefix="CASTSIGHT_", env_nested_delimiter="__", extra="forbid"
    )

    cells: list[CellSettings]
    storage: StorageSettings = StorageSettings()
    signals: SignalSettings = SignalSettings()
    auth: AuthSettings = AuthSettings()
    dicom: DicomSettings = DicomSettings()
    workers: int = Field(2, ge=1)
    """Worker processes inspecting parts."""
    inspection_timeout_s: float = Field(120.0, gt=0)
    """From acknowledgement to sentence; past it the part is REVIEW (NoTest)."""
    answer_within_s: float = Field(30.0, ge=0)
    """POST /api/parts answers with the record when the sentence comes within this
    time, else 202 with the part's URL to poll."""
    max_view_bytes: int = Field(256 * 2**20, ge=1)
    """An uploaded view file larger than this is refused (413)."""
    max_views: int = Field(64, ge=1)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    statistics: StatisticsSettings = StatisticsSettings()

    @field_validator("cells")
    @classmethod
    def _cells_unique(cls, cells: list[CellSettings]) -> list[CellSettings]:
        names = [c.name for c in cells]
        if not cells or len(set(names)) != len(names):
            raise ValueError(f"at least one cell, names unique (got {names})")
        return cells

    @model_validator(mode="after")
    def _answer_within_timeout(self) -> StationSettings:
        self.answer_within_s = min(self.answer_within_s, self.inspection_timeout_s)
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment wins over the file's values (given as init values)."""
        return env_settings, init_settings

    def cell(self, name: str) -> CellSettings:
        """The cell called ``name``; :class:`KeyError` if none is."""
        for c in self.cells:
            if c.name == name:
                return c
        raise KeyError(name)


def load_settings(path: Path) -> StationSettings:
    """Read ``path`` (YAML) and the environment into :class:`StationSettings`.

    Parameters
    ----------
    path : Path
        A YAML mapping of the settings' fields (``cells``, ``storage``, ``signals``, ...).

    Returns
    -------
    StationSettings
        Relative paths in the file (data_dir, archive_dir, models, plans) are taken
        relative to the file's folder.

    Raises
    ------
    InputError
        The file is missing, not YAML, or its values are invalid.
    """
    import yaml
    from pydantic import ValidationError

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise InputError(path, f"cannot read the settings ({err})") from None
    if not isinstance(data, dict):
        raise InputError(path, "the settings file must hold a mapping")
    _relative_to(data, path.parent)
    try:
        return StationSettings(**data)
    except ValidationError as err:
        raise InputError(path, f"invalid settings: {err}") from None


def _relative_to(data: dict[str, Any], root: Path) -> None:
    """Make the file's relative paths relative to its folder (in place)."""

    def fix(mapping: dict[str, Any], key: str) -> None:
        value = mapping.get(key)
        if isinstance(value, str) and value and not Path(value).is_absolute():
            mapping[key] = str(root / value)

    storage = data.get("storage")
    if isinstance(storage, dict):
        fix(storage, "data_dir")
        fix(storage, "archive_dir")
    dicom = data.get("dicom")
    if isinstance(dicom, dict):
        fix(dicom, "spool_dir")
    signals = data.get("signals")
    opcua = signals.get("opcua") if isinstance(signals, dict) else None
    if isinstance(opcua, dict):
        for key in ("certificate", "private_key", "trusted_clients"):
            fix(opcua, key)
    for cell in data.get("cells") or []:
        if isinstance(cell, dict):
            fix(cell, "model")
            fix(cell, "calibration")
            fix(cell, "challenge")
            if isinstance(cell.get("watch"), dict):
                fix(cell["watch"], "path")
            plan = cell.get("plan")
            if isinstance(plan, str) and plan.endswith((".yaml", ".yml")):
                fix(cell, "plan")


__all__ = [
    "AuthSettings",
    "CellSettings",
    "DicomSettings",
    "MqttSettings",
    "OpcuaSecurityPolicy",
    "OpcuaSettings",
    "SignalSettings",
    "StationSettings",
    "StatisticsSettings",
    "StorageSettings",
    "WatchSettings",
    "load_settings",
]
