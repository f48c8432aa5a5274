"""Bad input gets one clear CastsightError, never a traceback or a silent fallback."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tifffile

from castsight.errors import (
    CastsightError,
    ConversionError,
    ImageContentError,
    ImageFormatError,
    InputError,
    MetadataError,
)
from castsight.io import read_radiograph, write_radiograph
from castsight.radiograph import Radiograph
from tests.conftest import make_radiograph


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_radiograph(tmp_path / "absent.tif")


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="directory"):
        read_radiograph(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.tif").write_bytes(b"")
    with pytest.raises(ImageFormatError, match="empty"):
        read_radiograph(tmp_path / "e.tif")


def test_unknown_format(tmp_path: Path) -> None:
    (tmp_path / "x.tif").write_bytes(b"this is not an image at all")
    with pytest.raises(ImageFormatError, match="unknown format"):
        read_radiograph(tmp_path / "x.tif")


@pytest.mark.parametrize("name", ["v.tif", "v.png", "v.dcm"])
@pytest.mark.parametrize("keep", [0.3, 0.7, 0.95])
def test_truncated_files_are_refused(tmp_path: Path, name: str, keep: float) -> None:
    data = write_radiograph(make_radiograph(shape=(64, 64)), tmp_path / name).read_bytes()
    cut = tmp_path / f"cut_{name}"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ImageFormatError):
        read_radiograph(cut)


@pytest.mark.parametrize("shape", [(1, 1), (1, 100), (4, 40)])
def test_tiny_images_are_refused(tmp_path: Path, shape: tuple[int, int]) -> None:
    tifffile.imwrite(tmp_path / "t.tif", np.zeros(shape, np.uint16))
    with pytest.raises(ImageContentError, match="at least"):
        read_radiograph(tmp_path / "t.tif")


def test_rgb_is_explained_and_converted_only_when_asked(tmp_path: Path) -> None:
    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[..., 0] = 200
    tifffile.imwrite(tmp_path / "c.tif", rgb, photometric="rgb")
    with pytest.raises(ImageContentError, match="colour"):
        read_radiograph(tmp_path / "c.tif")
    grey = read_radiograph(tmp_path / "c.tif", to_gray=True)
    assert grey.dtype == np.uint8 and int(grey.pixels[0, 0]) == round(0.299 * 200)


def test_stack_is_refused(tmp_path: Path) -> None:
    tifffile.imwrite(tmp_path / "s.tif", np.zeros((5, 16, 16), np.uint16))
    with pytest.raises(ImageFormatError, match="multi-page"):
        read_radiograph(tmp_path / "s.tif")


def test_non_finite_floats_are_refused(tmp_path: Path) -> None:
    pixels = np.ones((16, 16), np.float32)
    pixels[3, 4] = np.nan
    pixels[5, 6] = np.inf
    tifffile.imwrite(tmp_path / "n.tif", pixels)
    with pytest.raises(ImageContentError, match="2 pixel"):
        read_radiograph(tmp_path / "n.tif")


@pytest.mark.parametrize("dtype", ["int16", "uint32", "float64", "int8"])
def test_unsupported_bit_depth(tmp_path: Path, dtype: str) -> None:
    tifffile.imwrite(tmp_path / "d.tif", np.ones((16, 16), dtype))
    with pytest.raises(ImageContentError, match="unsupported pixel type"):
        read_radiograph(tmp_path / "d.tif")


@pytest.mark.parametrize("name", ["v.tif", "v.png", "v.dcm"])
def test_pixel_limit_guards_before_decoding(tmp_path: Path, name: str) -> None:
    path = write_radiograph(make_radiograph(shape=(64, 64)), tmp_path / name)
    with pytest.raises(ImageContentError, match="over the limit"):
        read_radiograph(path, max_pixels=1000)
    assert read_radiograph(path, max_pixels=64 * 64).shape == (64, 64)


def test_malformed_sidecar_is_an_error_not_ignored(tmp_path: Path) -> None:
    path = write_radiograph(make_radiograph(), tmp_path / "v.png")
    path.with_suffix(".json").write_text(
        '{"schema": "castsight.radiograph/1", "acquisition": {"kv": "high"}}'
    )
    with pytest.raises(MetadataError, match="'kv' must be a number"):
        read_radiograph(path)


def test_float_cannot_be_written_to_png_or_diconde(tmp_path: Path) -> None:
    for name in ("f.png", "f.dcm"):
        with pytest.raises(ConversionError, match="convert it to uint16"):
            write_radiograph(make_radiograph("float32"), tmp_path / name)


def test_unknown_suffix_on_write(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="unknown output suffix"):
        write_radiograph(make_radiograph(), tmp_path / "v.jpg")


def test_every_error_is_one_family() -> None:
    for cls in (InputError, ImageFormatError, ImageContentError, MetadataError, ConversionError):
        assert issubclass(cls, CastsightError)


def test_radiograph_pixels_are_read_only() -> None:
    r = Radiograph(np.zeros((8, 8), np.uint16))
    with pytest.raises(ValueError, match="read-only"):
        r.pixels[0, 0] = 1


def test_grey_stored_as_rgb_is_read_as_grey_without_loss(tmp_path: Path) -> None:
    grey = np.arange(16 * 16, dtype=np.uint16).reshape(16, 16) * 200
    tifffile.imwrite(tmp_path / "g.tif", np.stack([grey] * 3, -1), photometric="rgb")
    assert np.array_equal(read_radiograph(tmp_path / "g.tif").pixels, grey)
    rgba = np.stack([grey, grey, grey, np.full_like(grey, 65535)], -1)
    tifffile.imwrite(tmp_path / "a.tif", rgba, photometric="rgb", extrasamples=["unassalpha"])
    assert np.array_equal(read_radiograph(tmp_path / "a.tif").pixels, grey)
    rgba[0, 0, 3] = 0  # a transparent pixel: not a plain grey image
    tifffile.imwrite(tmp_path / "t.tif", rgba, photometric="rgb", extrasamples=["unassalpha"])
    with pytest.raises(ImageContentError, match="colour"):
        read_radiograph(tmp_path / "t.tif")


@pytest.mark.parametrize("suffix", [".jpg", ".bmp"])
def test_jpeg_and_bmp_are_read_and_found_in_folders(tmp_path: Path, suffix: str) -> None:
    import cv2

    from castsight.io import IMAGE_SUFFIXES, discover_parts

    image = np.tile(np.linspace(40, 220, 64).astype(np.uint8), (48, 1))
    ok, data = cv2.imencode(suffix, np.stack([image] * 3, -1))  # grey saved as colour
    assert ok and suffix in IMAGE_SUFFIXES
    (tmp_path / f"v{suffix}").write_bytes(data.tobytes())
    got = read_radiograph(tmp_path / f"v{suffix}")
    assert got.pixels.shape == (48, 64) and got.dtype == np.uint8
    assert np.abs(got.pixels.astype(int) - image).max() <= (0 if suffix == ".bmp" else 3)
    [part] = discover_parts([tmp_path])  # a folder of images only is one part
    assert [v.name for v in part.views] == ["v"]
    (tmp_path / f"bad{suffix}").write_bytes(data.tobytes()[:40])
    with pytest.raises(ImageFormatError, match="corrupt or truncated"):
        read_radiograph(tmp_path / f"bad{suffix}")


def test_a_second_page_of_another_shape_is_refused(tmp_path: Path) -> None:
    with tifffile.TiffWriter(tmp_path / "m.tif") as tif:
        tif.write(np.zeros((16, 16), np.uint16))
        tif.write(np.zeros((8, 12), np.uint16))
    with pytest.raises(ImageFormatError, match=r"2 pages.*\(8, 12\)"):
        read_radiograph(tmp_path / "m.tif")


def test_what_is_not_a_regular_file_is_refused_without_blocking(tmp_path: Path) -> None:
    (tmp_path / "dangling.tif").symlink_to(tmp_path / "gone.tif")
    (tmp_path / "loop.tif").symlink_to(tmp_path / "loop.tif")
    (tmp_path / "dir.tif").mkdir()
    os.mkfifo(tmp_path / "fifo.tif")  # opening it for reading would wait for a writer
    for name, why in [("dangling", "dangling symbolic link"), ("loop", "link loop"),
                      ("dir", "is a directory"), ("fifo", "not a regular file")]:  # fmt: skip
        with pytest.raises(InputError, match=why):
            read_radiograph(tmp_path / f"{name}.tif")
