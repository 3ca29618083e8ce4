"""Uploaded photographs: real JPEG, PNG or WebP only, within limits, upright, and without metadata."""

import hashlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from cellclinic.core.images import (
    DAMAGED,
    EMPTY,
    NOT_AN_IMAGE,
    CleanImage,
    ImageRejected,
    clean_image,
)

LIMITS = {"max_bytes": 5 * 1024 * 1024, "max_pixels": 4_000_000}
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def _exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0110] = "Model 9000"  # Model
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)})
    return exif


def _picture(fmt: str, *, size=(40, 20), mode="RGB", exif: Image.Exif | None = None, **extra) -> bytes:
    image = Image.new(mode, size, "red" if mode != "L" else 128)
    # A blue left half, so a rotation can be seen in the pixels.
    image.paste("blue" if mode != "L" else 10, (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    if exif is not None:
        extra["exif"] = exif
    image.save(out, fmt, **extra)
    return out.getvalue()


def _reopen(clean: CleanImage) -> Image.Image:
    image = Image.open(io.BytesIO(clean.bytes))
    image.load()
    return image


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_it_strips_exif_gps_from_every_format(fmt, content_type):
    data = _picture(fmt, exif=_exif_with_gps())
    assert b"SecretCam" in data  # the original really carries the metadata
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)

    clean = clean_image(data, **LIMITS)

    assert clean.content_type == content_type
    assert b"SecretCam" not in clean.bytes and b"Model 9000" not in clean.bytes
    assert b"Exif" not in clean.bytes
    stored = _reopen(clean)
    assert not stored.getexif()
    assert not stored.getexif().get_ifd(GPS_IFD)
    assert "exif" not in stored.info and "icc_profile" not in stored.info and "xmp" not in stored.info
    assert clean.sha256 == hashlib.sha256(clean.bytes).hexdigest()


def test_it_drops_icc_profile_comments_and_png_text():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "taken at 12 Secret Street")
    png = _picture("PNG", pnginfo=info, icc_profile=b"fake-icc-profile")
    jpeg = _picture("JPEG", comment=b"12 Secret Street", icc_profile=b"fake-icc-profile")
    for data in (png, jpeg):
        assert b"Secret Street" in data
        clean = clean_image(data, **LIMITS)
        assert b"Secret Street" not in clean.bytes
        assert b"fake-icc-profile" not in clean.bytes
        assert "icc_profile" not in _reopen(clean).info


def test_it_turns_the_picture_upright_from_the_exif_orientation():
    # Orientation 6: the camera was turned; the picture must be rotated 90° clockwise to view.
    data = _picture("JPEG", size=(40, 20), exif=_exif_with_gps(orientation=6))
    clean = clean_image(data, **LIMITS)
    assert (clean.width, clean.height) == (20, 40)
    stored = _reopen(clean)
    assert stored.size == (20, 40)
    # The blue left half is now the top half.
    top = stored.getpixel((10, 5))
    bottom = stored.getpixel((10, 35))
    assert top[2] > 150 and top[0] < 100
    assert bottom[0] > 150 and bottom[2] < 100


def test_it_keeps_transparency_in_png():
    clean = clean_image(_picture("PNG", mode="RGBA"), **LIMITS)
    assert _reopen(clean).mode == "RGBA"


def test_it_stores_a_greyscale_jpeg_as_rgb():
    clean = clean_image(_picture("JPEG", mode="L"), **LIMITS)
    assert _reopen(clean).mode == "RGB"


def test_it_refuses_a_text_file_named_jpg():
    with pytest.raises(ImageRejected, match=NOT_AN_IMAGE):
        clean_image(b"<html><script>alert(1)</script></html>", **LIMITS)


def test_it_refuses_other_image_formats():
    with pytest.raises(ImageRejected, match=NOT_AN_IMAGE):
        clean_image(_picture("GIF"), **LIMITS)
    with pytest.raises(ImageRejected, match=NOT_AN_IMAGE):
        clean_image(_picture("BMP"), **LIMITS)


def test_it_refuses_an_empty_file():
    with pytest.raises(ImageRejected, match=EMPTY):
        clean_image(b"", **LIMITS)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_it_refuses_a_truncated_file(fmt):
    data = _picture(fmt, size=(300, 200))
    with pytest.raises(ImageRejected) as caught:
        clean_image(data[: len(data) // 2], **LIMITS)
    assert str(caught.value) in {DAMAGED, NOT_AN_IMAGE}


def test_it_refuses_a_file_over_the_byte_limit():
    data = _picture("PNG", size=(200, 200))
    with pytest.raises(ImageRejected, match="larger than"):
        clean_image(data, max_bytes=len(data) - 1, max_pixels=LIMITS["max_pixels"])
    assert clean_image(data, max_bytes=len(data), max_pixels=LIMITS["max_pixels"]).width == 200


def test_it_refuses_an_oversized_picture_before_decoding_it():
    data = _picture("PNG", size=(300, 200))  # 60 000 pixels
    with pytest.raises(ImageRejected, match="more than"):
        clean_image(data, max_bytes=LIMITS["max_bytes"], max_pixels=59_999)
    assert clean_image(data, max_bytes=LIMITS["max_bytes"], max_pixels=60_000).height == 200


def test_it_refuses_a_decompression_bomb_header():
    # A tiny PNG that claims to be 30 000 × 30 000 pixels (900 million).
    data = _picture("PNG", size=(1, 1))
    bomb = data[:16] + (30000).to_bytes(4, "big") + (30000).to_bytes(4, "big") + data[24:]
    with pytest.raises(ImageRejected):
        clean_image(bomb, **LIMITS)


def test_it_leaves_pillow_global_limit_as_it_was():
    before = Image.MAX_IMAGE_PIXELS
    clean_image(_picture("PNG"), max_bytes=LIMITS["max_bytes"], max_pixels=123_456)
    assert before == Image.MAX_IMAGE_PIXELS


@settings(max_examples=25)
@given(
    width=st.integers(1, 64),
    height=st.integers(1, 64),
    fmt=st.sampled_from(["JPEG", "PNG", "WEBP"]),
    orientation=st.integers(1, 8),
)
def test_any_real_picture_comes_out_metadata_free_with_its_size(width, height, fmt, orientation):
    data = _picture(fmt, size=(width, height), exif=_exif_with_gps(orientation))
    clean = clean_image(data, **LIMITS)
    expected = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    assert (clean.width, clean.height) == expected
    assert not _reopen(clean).getexif()
    assert b"SecretCam" not in clean.bytes
    # Cleaning is stable: a clean picture cleaned again keeps its size.
    again = clean_image(clean.bytes, **LIMITS)
    assert (again.width, again.height) == expected
