"""DICONDE radiographs (ASTM E2339 / E2699: DICOM for NDE) via pydicom.

Written as a Digital X-Ray ("DX", For Processing) image, Explicit VR Little
Endian, uncompressed, so any DICOM toolkit opens it. castsight metadata maps
onto standard attributes:

=====================  ============================================
castsight              DICONDE / DICOM attribute
=====================  ============================================
part_serial            PatientID (DICONDE: Component ID / serial)
part_type              PatientName (DICONDE: Component Name)
view                   SeriesDescription, and ViewName when it fits
pixel_pitch_mm         ImagerPixelSpacing (detector plane)
pixel size at object   PixelSpacing = pitch / M (written, derived)
sod_mm / sdd_mm        DistanceSourceToPatient / DistanceSourceToDetector
magnification          EstimatedRadiographicMagnificationFactor
kv                     KVP
ma                     XRayTubeCurrentInmA (and XRayTubeCurrent)
exposure_ms            ExposureTimeInms (and ExposureTime)
filter                 FilterType
bit_depth              BitsStored
detector_id            DetectorID
=====================  ============================================

Standard attributes win on reading; the castsight record kept in
ImageComments only fills values a standard attribute could not hold (e.g. a
string longer than its value representation allows). ``bit_depth`` always
comes back as BitsStored, which DICOM requires. A MONOCHROME1 image (the
smallest value displays white) is inverted on reading, ``2**BitsStored - 1 -
value``, so every image reaches castsight as MONOCHROME2 (more transmitted
intensity, a higher value).

>>> import numpy as np, tempfile, pathlib, pydicom
>>> from castsight.radiograph import Radiograph, Acquisition
>>> p = pathlib.Path(tempfile.mkdtemp()) / "v.dcm"
>>> acq = Acquisition(pixel_pitch_mm=0.2, sod_mm=500.0, sdd_mm=1000.0, kv=120.0, bit_depth=16)
>>> write(Radiograph(np.ones((8, 8), np.uint16), acq, part_serial="S1", view="V01"), p)
>>> ds = pydicom.dcmread(p)
>>> [float(v) for v in ds.PixelSpacing], ds.PatientID, int(ds.BitsStored)
([0.1, 0.1], 'S1', 16)
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from numpy.typing import NDArray
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from castsight import __version__
from castsight.errors import CastsightError, ImageFormatError
from castsight.io import metadata
from castsight.io.files import atomic_write_bytes, short_reason
from castsight.io.validate import DEFAULT_MAX_PIXELS, check_pixels, check_size
from castsight.radiograph import Acquisition, Radiograph

SUFFIXES = (".dcm", ".dicom", ".dcn")
DX_FOR_PROCESSING = "1.2.840.10008.5.1.4.1.1.1.1.1"
_SH, _LO, _PN = 16, 64, 64  # maximum lengths of the value representations used
_VALID_UID = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")


def is_dicom(data: bytes) -> bool:
    """True for a DICOM Part 10 file (``DICM`` after the 128-byte preamble)."""
    return len(data) >= 132 and data[128:132] == b"DICM"


def read(
    data: bytes,
    source: Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    to_gray: bool = False,
) -> tuple[NDArray[Any], Acquisition, metadata.Identity]:
    """Decode DICONDE bytes into (pixels, acquisition, identity)."""
    try:
        ds = pydicom.dcmread(io.BytesIO(data))
    except Exception as err:
        raise ImageFormatError(
            source, f"corrupt DICOM/DICONDE file ({short_reason(err)})"
        ) from None
    try:
        return _decode(ds, source, max_pixels=max_pixels, to_gray=to_gray)
    except CastsightError:
        raise
    except Exception as err:  # pydicom decodes elements lazily: corruption surfaces here
        raise ImageFormatError(
            source, f"corrupt DICOM/DICONDE file ({short_reason(err)})"
        ) from None


def _decode(
    ds: pydicom.Dataset, source: Path, *, max_pixels: int, to_gray: bool
) -> tuple[NDArray[Any], Acquisition, metadata.Identity]:
    if "PixelData" not in ds:
        raise ImageFormatError(source, "DICOM file holds no pixel data")
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        raise ImageFormatError(
            source, f"multi-frame DICOM ({frames} frames); castsight reads one view per file"
        )
    check_size(int(ds.get("Rows", 0)), int(ds.get("Columns", 0)), source, max_pixels)
    try:
        pixels = ds.pixel_array
    except Exception as err:
        raise ImageFormatError(
            source, f"cannot decode DICOM pixels ({short_reason(err)})"
        ) from None
    if int(ds.get("PixelRepresentation", 0)) != 0:
        raise ImageFormatError(source, "signed DICOM pixels are not supported (need unsigned)")
    pixels = check_pixels(pixels, source, max_pixels=max_pixels, to_gray=to_gray)
    if str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip() == "MONOCHROME1":
        # the smallest value displays white: turn it the way castsight reads images
        # (MONOCHROME2: more transmitted intensity, a higher value)
        top = 2 ** int(ds.get("BitsStored", 8 * pixels.dtype.itemsize)) - 1
        pixels = (top - np.minimum(pixels.astype(np.int64), top)).astype(pixels.dtype)
    acq, ident = _metadata_from(ds, source)
    return np.ascontiguousarray(pixels), acq, ident


def _metadata_from(ds: pydicom.Dataset, source: Path) -> tuple[Acquisition, metadata.Identity]:
    fallback_acq, fallback_ident = Acquisition(), metadata.empty_identity()
    comments = str(ds.get("ImageComments", "") or "")
    if metadata.is_castsight(comments):
        fallback_acq, fallback_ident = metadata.decode(comments, source)

    def num(keyword: str) -> float | None:
        value = ds.get(keyword)
        if value is None or value == "":
            return None
        if isinstance(value, pydicom.multival.MultiValue):
            value = value[0]
        return float(value)

    def text(keyword: str) -> str | None:
        value = ds.get(keyword)
        return None if value is None or str(value) == "" else str(value)

    standard: dict[str, Any] = {
        "pixel_pitch_mm": num("ImagerPixelSpacing"),
        "sod_mm": num("DistanceSourceToPatient"),
        "sdd_mm": num("DistanceSourceToDetector"),
        "kv": num("KVP"),
        "ma": num("XRayTubeCurrentInmA") if "XRayTubeCurrentInmA" in ds else num("XRayTubeCurrent"),
        "exposure_ms": num("ExposureTimeInms") if "ExposureTimeInms" in ds else num("ExposureTime"),
        "filter": text("FilterType"),
        "bit_depth": int(ds.BitsStored),
        "detector_id": text("DetectorID"),
    }
    merged = {
        name: standard[name] if standard[name] is not None else getattr(fallback_acq, name)
        for name in standard
    }
    identity: metadata.Identity = {
        "part_serial": text("PatientID") or fallback_ident["part_serial"],
        "part_type": text("PatientName") or fallback_ident["part_type"],
        "view": text("SeriesDescription") or text("ViewName") or fallback_ident["view"],
    }
    # no standard attribute holds a part-to-detector projection: ImageComments carries it
    return Acquisition(**merged, projection=fallback_acq.projection), identity


def part_uids(part_type: str | None, part_serial: str) -> tuple[str, str]:
    """The (StudyInstanceUID, SeriesInstanceUID) of part ``part_serial``'s views: derived
    from the part type and serial alone, so every view of one part written by castsight
    shares one study and one series (one series is one part to the station's C-STORE
    intake, :mod:`castsight.station.dicom`) and another part gets others.

    >>> a, b = part_uids("wheel", "S1"), part_uids("wheel", "S2")
    >>> a == part_uids("wheel", "S1"), a[1] != b[1], a[0] != a[1]
    (True, True, True)
    """
    key = f"castsight-part\x00{part_type or ''}\x00{part_serial}"
    return (
        str(generate_uid(entropy_srcs=[key, "study"])),
        str(generate_uid(entropy_srcs=[key, "series"])),
    )


def _check_uid(uid: str, what: str) -> str:
    """``uid`` when it is a valid DICOM UID (PS3.5 9.1: digits and dots, no leading zero
    in a component, at most 64 characters), else a ValueError."""
    if len(uid) > 64 or not _VALID_UID.match(uid):
        raise ValueError(f"{what} {uid!r} is not a valid DICOM UID")
    return uid


def write(
    radiograph: Radiograph,
    path: Path,
    *,
    series_uid: str | None = None,
    study_uid: str | None = None,
) -> None:
    """Write an 8/16-bit radiograph as a DICONDE file (atomic).

    UIDs are deterministic, so the same radiograph always gives the same bytes: the
    SOPInstanceUID derives from the pixels and metadata; the StudyInstanceUID and
    SeriesInstanceUID from the part (:func:`part_uids`: part type and serial), so all
    views of one part share one series, or, without a serial, from the content.
    ``series_uid`` / ``study_uid`` override them (e.g. a part X-rayed again, sent as a
    series of its own).

    Raises
    ------
    ValueError
        Pixels other than 8/16-bit unsigned; a given UID that is not a valid DICOM UID.
    """
    if radiograph.dtype.kind != "u":
        raise ValueError("DICONDE holds 8/16-bit unsigned pixels only")
    if series_uid is not None:
        _check_uid(series_uid, "series_uid")
    if study_uid is not None:
        _check_uid(study_uid, "study_uid")
    pixels = np.ascontiguousarray(radiograph.pixels)
    acq = radiograph.acquisition
    record = metadata.encode(acq, radiograph.identity())
    digest = hashlib.sha256(pixels.tobytes() + record.encode()).hexdigest()

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = pydicom.uid.UID(DX_FOR_PROCESSING)
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[digest, "sop"])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationVersionName = f"castsight{__version__}"[:16]
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = pydicom.uid.UID(DX_FOR_PROCESSING)
    ds.SOPInstanceUID = generate_uid(entropy_srcs=[digest, "sop"])
    ident = radiograph.identity()
    serial = ident["part_serial"]
    if serial:
        study, series = part_uids(ident["part_type"], serial)
    else:  # no part to group by: the content's own
        study = generate_uid(entropy_srcs=[digest, "study"])
        series = generate_uid(entropy_srcs=[digest, "series"])
    ds.StudyInstanceUID = study_uid or study
    ds.SeriesInstanceUID = series_uid or series
    ds.Modality = "DX"
    ds.PresentationIntentType = "FOR PROCESSING"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.Manufacturer = "castsight"
    ds.SoftwareVersions = __version__
    ds.ImageComments = record

    _put(ds, "PatientID", ident["part_serial"], _LO)
    _put(ds, "PatientName", ident["part_type"], _PN)
    _put(ds, "SeriesDescription", ident["view"], _LO)
    _put(ds, "ViewName", ident["view"], _SH)
    _put(ds, "FilterType", acq.filter, _SH)
    _put(ds, "DetectorID", acq.detector_id, _SH)

    if acq.pixel_pitch_mm is not None:
        ds.ImagerPixelSpacing = [_ds(acq.pixel_pitch_mm)] * 2
        size = acq.pixel_size_at_object_mm
        ds.PixelSpacing = [_ds(size if size is not None else acq.pixel_pitch_mm)] * 2
    if acq.sod_mm is not None:
        ds.DistanceSourceToPatient = _ds(acq.sod_mm)
    if acq.sdd_mm is not None:
        ds.DistanceSourceToDetector = _ds(acq.sdd_mm)
    if acq.magnification is not None:
        ds.EstimatedRadiographicMagnificationFactor = _ds(acq.magnification)
    if acq.kv is not None:
        ds.KVP = _ds(acq.kv)
    if acq.ma is not None:
        ds.XRayTubeCurrentInmA = float(acq.ma)
        ds.XRayTubeCurrent = round(acq.ma)
    if acq.exposure_ms is not None:
        ds.ExposureTimeInms = float(acq.exposure_ms)
        ds.ExposureTime = round(acq.exposure_ms)

    bits = pixels.dtype.itemsize * 8
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated = bits
    ds.BitsStored = acq.bit_depth if acq.bit_depth and acq.bit_depth <= bits else bits
    ds.HighBit = int(ds.BitsStored) - 1
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.astype(pixels.dtype.newbyteorder("<"), copy=False).tobytes()

    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    atomic_write_bytes(path, buffer.getvalue())


def _put(ds: pydicom.Dataset, keyword: str, value: str | None, limit: int) -> None:
    """Set a text attribute when it fits its value representation; else leave it out."""
    if value is not None and 0 < len(value) <= limit and "\\" not in value:
        setattr(ds, keyword, value)


def _ds(value: float) -> str:
    """A Decimal String of at most 16 characters, exact when the float allows it."""
    text = repr(float(value))
    if len(text) <= 16:
        return text
    for digits in range(15, 0, -1):
        text = f"{value:.{digits}g}"
        if len(text) <= 16:
            return text
    raise ValueError(f"cannot express {value} as a DICOM decimal string")  # pragma: no cover


__all__ = ["SUFFIXES", "is_dicom", "part_uids", "read", "write"]
