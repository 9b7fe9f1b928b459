"""Images for the Messages API: check, shrink and encode them, as plain functions and as an upload widget.

The type is read from the file's first bytes (its "magic bytes"), never from its name: a PDF renamed
``photo.png`` is rejected, a JPEG saved as ``photo.png`` is accepted as ``image/jpeg``. Every image is fully
decoded once, so a truncated download fails here with a clear message instead of as a server error later.
Images whose long side exceeds ``max_side`` (1568 px, the size above which Anthropic's API downsizes
anyway) are shrunk with the aspect ratio kept; the result must fit in ``max_bytes`` (5 MB). ``lang`` (``"en"`` or
``"zh"``; default: the ``OLLAMA_KIT_LANG`` setting) is the language of the rejections and the upload's captions.

Example:
    >>> from ollama_anthropic_widgets import image_block, user_message
    >>> block = image_block("photo.jpg")                        # doctest: +SKIP
    >>> message = user_message("What is in this picture?", ["photo.jpg"])  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import io
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from PIL import Image, ImageOps, UnidentifiedImageError

from .i18n import language, localized

DEFAULT_MAX_SIDE = 1568
DEFAULT_MAX_BYTES = 5_000_000
JPEG_QUALITY = 85

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_PILLOW_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
_DISPLAY = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WebP"}
_ORIENTATION_TAG = 0x0112
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}


class ImageRejected(ValueError):
    """An image the kit will not send, with one message saying what is wrong and what to do.

    ``name`` is the file name (or "This file"); ``str(error)`` is the whole message.

    Example:
        >>> try:
        ...     image_block(b"%PDF-1.7 ...")
        ... except ImageRejected as error:
        ...     print(error)
        This file is not an image (its first bytes look like a PDF document): upload a PNG, JPEG, GIF or WebP
    """

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name


def detect_media_type(data: bytes) -> str | None:
    """``image/png``, ``image/jpeg``, ``image/gif`` or ``image/webp`` from the first bytes, else ``None``.

    Example:
        >>> detect_media_type(b"\\x89PNG\\r\\n\\x1a\\n...")
        'image/png'
        >>> detect_media_type(b"%PDF-1.7") is None
        True
    """
    head = bytes(data[:16])
    for signature, media_type in _SIGNATURES:
        if head.startswith(signature):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _describe_unsupported(data: bytes, lang: str) -> tuple[str, str]:
    """(what the bytes look like, what to do) for data that is not one of the four accepted types."""
    head = bytes(data[:512])

    def refused(kind_key: str, fix_key: str = "images.convert") -> tuple[str, str]:
        return (localized("images.not_accepted", lang, kind=localized(kind_key, lang)), localized(fix_key, lang))

    if head.startswith(b"BM"):
        return refused("images.kind_bmp")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return refused("images.kind_tiff")
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return refused("images.kind_heif")
        if brand in _AVIF_BRANDS:
            return refused("images.kind_avif")
        kind_key = "images.looks_video"
    elif head.startswith(b"\x00\x00\x01\x00"):
        return refused("images.kind_ico")
    elif stripped.startswith(b"<svg") or (stripped.startswith(b"<?xml") and b"<svg" in stripped):
        return refused("images.kind_svg", "images.export_png")
    elif head.startswith(b"%PDF"):
        kind_key = "images.looks_pdf"
    elif head.startswith(b"PK\x03\x04"):
        kind_key = "images.looks_zip"
    elif head.startswith(b"\x1f\x8b"):
        kind_key = "images.looks_gzip"
    elif stripped.startswith((b"<!doctype html", b"<html")):
        kind_key = "images.looks_html_page"
    elif stripped.startswith(b"<"):
        kind_key = "images.looks_markup"
    elif _is_text(head):
        kind_key = "images.looks_text"
    else:
        shown = " ".join(f"{byte:02x}" for byte in head[:4])
        return (localized("images.matches_nothing", lang, head=shown),
                localized("images.upload_accepted", lang))
    return (localized("images.looks_like", lang, kind=localized(kind_key, lang)),
            localized("images.upload_accepted", lang))


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= len(head) - 3  # a multi-byte character cut at the end of the sample
    return True


def _size(size: int, lang: str) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{size / 1000:.0f} KB" if size >= 1000 else localized("images.size_bytes", lang, count=size)


def _check_limits(max_side: int, max_bytes: int) -> None:
    if int(max_side) < 1 or int(max_bytes) < 1:
        raise ValueError(f"max_side and max_bytes must be positive, got max_side={max_side}, max_bytes={max_bytes}")


def _decode_fully(data: bytes, media_type: str, name: str, max_side: int,
                  lang: str) -> tuple[Image.Image, tuple[int, int]]:
    """Decode every frame, so a truncated or damaged file fails here; returns (first frame, size in the file)."""
    kind = _PILLOW_FORMATS[media_type]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind])
            stored_size = image.size
            if kind == "JPEG" and max(image.size) > max_side:
                # Decode at 1/2, 1/4 or 1/8 scale straight from the DCT data (still >= the target size): the
                # whole file is read either way, and a 12-megapixel photo decodes ~2x faster.
                scale = max_side / max(image.size)
                image.draft(image.mode, (round(image.width * scale), round(image.height * scale)))
            frames = getattr(image, "n_frames", 1)
            for index in range(frames):
                image.seek(index)
                image.load()
            if frames > 1:
                image.seek(0)
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        limit = Image.MAX_IMAGE_PIXELS or 0  # None (no limit) raises neither, so never gets here
        raise ImageRejected(name, localized("images.too_many_pixels", lang, name=name,
                                            limit=limit // 1_000_000)) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as error:
        if isinstance(error, UnidentifiedImageError):
            # Pillow's own text names a BytesIO object, of no use here
            detail = localized("images.header_incomplete", lang)
        else:
            detail = str(error).strip() or type(error).__name__
        raise ImageRejected(name, localized("images.damaged", lang, name=name, format=_DISPLAY[media_type],
                                            detail=detail)) from error
    return image, stored_size


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(_ORIENTATION_TAG, 1))
    except Exception:  # a broken EXIF block must not reject an image that decodes fine
        return 1


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _encode(image: Image.Image, pillow_format: str) -> bytes:
    buffer = io.BytesIO()
    if pillow_format == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    else:
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
            image = image.convert("RGBA" if _has_alpha(image) else "RGB")
        image.save(buffer, "PNG")
    return buffer.getvalue()


def prepare_image(data: bytes, max_side: int = DEFAULT_MAX_SIDE, max_bytes: int = DEFAULT_MAX_BYTES, *,
                  name: str | None = None, lang: str | None = None) -> tuple[bytes, str, tuple[int, int]]:
    """Check and shrink one image: returns ``(bytes, media_type, (width, height))`` ready to send.

    * The type comes from the magic bytes (PNG, JPEG, GIF, WebP); anything else raises :class:`ImageRejected`.
    * The image is fully decoded (every frame); a truncated or damaged file raises :class:`ImageRejected`.
    * If the long side exceeds ``max_side`` it is resized (aspect ratio kept, Lanczos): a JPEG is re-encoded as
      JPEG (quality 85), a PNG, GIF or WebP as PNG (for an animation, its first frame). A PNG without
      transparency that comes out over ``max_bytes`` is tried once more as JPEG. A JPEG's EXIF rotation is
      applied, so the model sees the photo upright.
    * An image that needs no change is returned byte for byte (animations included).
    * The result must be at most ``max_bytes``, else :class:`ImageRejected`.

    ``name`` is only used in messages (default "This file"), which are in ``lang``.

    Example:
        >>> data, media_type, size = prepare_image(open("photo.jpg", "rb").read())  # doctest: +SKIP
        >>> media_type, size                                                       # doctest: +SKIP
        ('image/jpeg', (1568, 1176))
    """
    _check_limits(max_side, max_bytes)
    lang = language(lang)
    name = name or localized("images.this_file", lang)
    data = bytes(data)
    if not data:
        raise ImageRejected(name, localized("images.empty", lang, name=name))
    media_type = detect_media_type(data)
    if media_type is None:
        problem, fix = _describe_unsupported(data, lang)
        raise ImageRejected(name, localized("images.rejected", lang, name=name, problem=problem, fix=fix))

    image, stored_size = _decode_fully(data, media_type, name, max_side, lang)
    oriented = media_type == "image/jpeg" and _orientation(image) != 1
    if not oriented and max(stored_size) <= max_side and len(data) <= max_bytes:
        return data, media_type, stored_size  # nothing to change: send the original bytes
    if oriented:
        image = ImageOps.exif_transpose(image)

    if max(image.size) > max_side:
        if image.mode in ("1", "P", "PA") or image.mode.startswith(("I;", "F")):
            image = image.convert("RGBA" if _has_alpha(image) else "RGB")
        scale = max_side / max(image.size)
        target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(target, Image.Resampling.LANCZOS)

    out_type = "image/jpeg" if media_type == "image/jpeg" else "image/png"
    encoded = _encode(image, _PILLOW_FORMATS[out_type])
    if len(encoded) > max_bytes and out_type == "image/png" and not _has_alpha(image):
        as_jpeg = _encode(image, "JPEG")
        if len(as_jpeg) < len(encoded):
            encoded, out_type = as_jpeg, "image/jpeg"
    if len(encoded) > max_bytes:
        width, height = image.size
        raise ImageRejected(name, localized("images.too_large", lang, name=name, size=_size(len(encoded), lang),
                                            width=width, height=height, format=_DISPLAY[out_type],
                                            limit=_size(max_bytes, lang)))
    return encoded, out_type, image.size


PREVIEW_SIDE = 320  # an upload shows previews at most 160 px wide: twice that stays sharp on a high-DPI screen


class PreparedUpload(NamedTuple):
    """One uploaded file, ready: the block to send, the line that reports it, and a small preview to show (a PNG, or a
    JPEG for a JPEG: :data:`PREVIEW_SIDE` px at most), so the page never carries the whole image twice."""

    block: dict[str, Any]
    line: str
    preview: bytes
    preview_type: str


def prepare_upload(name: str, content: Any, max_side: int = DEFAULT_MAX_SIDE, max_bytes: int = DEFAULT_MAX_BYTES,
                   *, lang: str | None = None) -> PreparedUpload:
    """An uploaded file (its name and bytes) checked and shrunk by :func:`prepare_image`, as an image block and the
    line an upload shows for it; raises :class:`ImageRejected` as ``prepare_image`` does.

    Example:
        >>> buffer = io.BytesIO()
        >>> sample_image().save(buffer, "PNG")
        >>> upload = prepare_upload("shapes.png", buffer.getvalue(), lang="en")
        >>> upload.line.split(",")[0], upload.block["source"]["media_type"], Image.open(io.BytesIO(upload.preview)).size
        ('shapes.png: 400×300 PNG', 'image/png', (320, 240))
    """
    lang = language(lang)
    data, media_type, (width, height) = prepare_image(bytes(content), max_side, max_bytes, name=name, lang=lang)
    line = localized("images.accepted_line", lang, name=name, width=width, height=height,
                     format=_DISPLAY[media_type], size=_size(len(data), lang))
    preview = Image.open(io.BytesIO(data))  # checked by prepare_image: decodes; an animation shows its first frame
    if preview.format == "JPEG":
        preview.draft("RGB", (PREVIEW_SIDE, PREVIEW_SIDE))
    preview.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    preview_format = "JPEG" if media_type == "image/jpeg" else "PNG"
    return PreparedUpload(_block(data, media_type), line, _encode(preview, preview_format),
                          f"image/{preview_format.lower()}")


def _block(data: bytes, media_type: str) -> dict[str, Any]:
    return {"type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": base64.b64encode(data).decode("ascii")}}


def image_block(source: Any, *, max_side: int = DEFAULT_MAX_SIDE, max_bytes: int = DEFAULT_MAX_BYTES,
                name: str | None = None, lang: str | None = None) -> dict[str, Any]:
    """An Anthropic base64 image block from a file path, bytes, or a PIL image (see :func:`prepare_image`).

    An existing image block (a dict with ``"type": "image"``) is returned unchanged. URLs are refused:
    Ollama accepts base64 images only.

    Example:
        >>> block = image_block("photo.jpg")               # doctest: +SKIP
        >>> block["source"]["media_type"]                   # doctest: +SKIP
        'image/jpeg'
    """
    lang = language(lang)
    if isinstance(source, dict):
        if source.get("type") != "image":
            name = name or localized("images.the_block", lang)
            raise ImageRejected(name, localized("images.not_image_block", lang, name=name, kind=source.get("type")))
        return source
    if isinstance(source, Image.Image):
        buffer = io.BytesIO()
        frame = source if source.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else source.convert("RGBA")
        frame.save(buffer, "PNG")
        source = buffer.getvalue()
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        if isinstance(text, str) and text.lower().startswith(("http://", "https://")):
            raise ImageRejected(text, localized("images.url", lang, name=text))
        path = Path(text)
        name = name or path.name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise FileNotFoundError(localized("images.no_file", lang, path=path.absolute(), cwd=Path.cwd())) from None
    else:
        raise TypeError(f"image_block() takes a file path, bytes or a PIL image, not {type(source).__name__}")
    encoded, media_type, _ = prepare_image(data, max_side, max_bytes, name=name, lang=lang)
    return _block(encoded, media_type)


def user_message(text: str, images: Iterable[Any] = (), *, max_side: int = DEFAULT_MAX_SIDE,
                 max_bytes: int = DEFAULT_MAX_BYTES, lang: str | None = None) -> dict[str, Any]:
    """A user message with a text block followed by image blocks (blocks, paths, bytes or PIL images).

    An empty ``text`` adds no text block (the API refuses empty text blocks).

    Example:
        >>> user_message("Hello")
        {'role': 'user', 'content': [{'type': 'text', 'text': 'Hello'}]}
    """
    content: list[dict[str, Any]] = []
    if text:
        content.append({"type": "text", "text": str(text)})
    content.extend(image_block(image, max_side=max_side, max_bytes=max_bytes, lang=lang) for image in images)
    if not content:
        raise ValueError("user_message() needs some text or at least one image")
    return {"role": "user", "content": content}


def sample_image() -> Image.Image:
    """A picture to try the image functions on, drawn here so that every install has one: a red circle and a blue
    square on white, labelled, 400 × 300 px. Lesson 07's ``notebooks/data/shapes.png`` is this picture.

    Example:
        >>> picture = sample_image()                 # a PIL image: a notebook cell shows it
        >>> picture.size
        (400, 300)
        >>> image_block(picture)["source"]["media_type"]
        'image/png'
    """
    from PIL import ImageDraw, ImageFont

    picture = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(picture)
    draw.ellipse((35, 60, 185, 210), fill="#d62728")
    draw.rectangle((220, 60, 370, 210), fill="#1f77b4")
    font = ImageFont.load_default(size=18)  # Pillow's bundled scalable font (10.1+): no font file needed
    draw.text((110, 255), "red circle", fill="black", font=font, anchor="mm")
    draw.text((295, 255), "blue square", fill="black", font=font, anchor="mm")
    return picture
