"""Uploaded photographs made safe to keep: real JPEG, PNG or WebP, within limits, without metadata.

Plain functions over bytes (Pillow, no Django). The format is read from the file's own bytes, never
from its name or the browser's word for it. The picture is turned upright from its EXIF orientation and
then re-encoded from the pixels alone, so no EXIF (camera, GPS position, time), XMP, ICC profile or
comment from the original is ever stored.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# What the file's bytes say it is -> how it is stored again.
ALLOWED_FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("JPEG", "image/jpeg"),
    "PNG": ("PNG", "image/png"),
    "WEBP": ("WEBP", "image/webp"),
}
JPEG_QUALITY = 90

EMPTY = "The file is empty."
NOT_AN_IMAGE = "This file is not a JPEG, PNG or WebP picture."
TOO_LARGE = "The file is larger than {limit}."
TOO_MANY_PIXELS = "The picture has more than {limit} pixels; please send a smaller one."
DAMAGED = "The picture could not be read; the file may be damaged or incomplete."


class ImageRejected(ValueError):
    """The upload cannot be kept as a photograph; the message says why, in plain words."""


@dataclass(frozen=True)
class CleanImage:
    """The re-encoded picture, as it is stored."""

    bytes: bytes
    content_type: str
    width: int
    height: int
    sha256: str

    @property
    def extension(self) -> str:
        return {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}[self.content_type]


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def _megapixels(count: int) -> str:
    return f"{count / 1_000_000:g} million"


def _open_checked(data: bytes, max_pixels: int) -> Image.Image:
    """Open and fully decode DATA, refusing anything over MAX_PIXELS before the pixels are decoded."""
    try:
        with warnings.catch_warnings():
            # Pillow warns, then raises, on decompression bombs: treat both as too large.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ALLOWED_FORMATS:
                raise ImageRejected(NOT_AN_IMAGE)
            width, height = image.size
            if width * height > max_pixels:
                raise ImageRejected(TOO_MANY_PIXELS.format(limit=_megapixels(max_pixels)))
            image.load()
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(TOO_MANY_PIXELS.format(limit=_megapixels(max_pixels))) from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected(NOT_AN_IMAGE) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected(DAMAGED) from exc
    return image


def _pixels_only(image: Image.Image, storage_format: str) -> Image.Image:
    """A new image holding the pixels and nothing else (no info dict, no profile, no EXIF)."""
    if storage_format == "JPEG":
        mode = "RGB"
    elif image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        mode = "RGBA"
    elif image.mode in ("L", "RGB"):
        mode = image.mode
    else:
        mode = "RGB"
    converted = image.convert(mode)
    clean = Image.new(mode, converted.size)
    clean.paste(converted)
    return clean


def clean_image(data: bytes, *, max_bytes: int, max_pixels: int) -> CleanImage:
    """Check DATA is a real JPEG, PNG or WebP within the limits; return it upright and metadata-free.

    Raises ImageRejected with a reader's explanation otherwise.
    """
    if not data:
        raise ImageRejected(EMPTY)
    if len(data) > max_bytes:
        raise ImageRejected(TOO_LARGE.format(limit=_megabytes(max_bytes)))
    previous_limit = Image.MAX_IMAGE_PIXELS
    # Pillow's own bomb check, at our limit: it raises for more than twice the limit, warns above it.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        image = _open_checked(data, max_pixels)
    finally:
        Image.MAX_IMAGE_PIXELS = previous_limit
    storage_format, content_type = ALLOWED_FORMATS[image.format]
    try:
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected(DAMAGED) from exc
    clean = _pixels_only(upright, storage_format)
    out = io.BytesIO()
    if storage_format == "JPEG":
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif storage_format == "WEBP":
        clean.save(out, "WEBP", quality=JPEG_QUALITY)
    else:
        clean.save(out, "PNG", optimize=True)
    encoded = out.getvalue()
    return CleanImage(
        bytes=encoded,
        content_type=content_type,
        width=clean.width,
        height=clean.height,
        sha256=hashlib.sha256(encoded).hexdigest(),
    )
