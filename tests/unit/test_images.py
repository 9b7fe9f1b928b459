"""Image checks and resizing, and the ImageUpload widget driven like the browser drives it.

Every image here is generated in the test with Pillow (and numpy for photo-like noise), so nothing is downloaded.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from ollama_anthropic_widgets.core.images import (
    ImageRejected,
    detect_media_type,
    image_block,
    prepare_image,
    user_message,
)
from ollama_anthropic_widgets.ui.image_upload import ImageUpload
from PIL import Image

from tests.unit.test_chat import elements_of


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def noise_image(width: int, height: int, seed: int = 0, noise: int = 25) -> Image.Image:
    """Gradients plus noise: compresses like a photo, not like a flat test card."""
    rng = np.random.default_rng(seed)
    red = np.broadcast_to(np.linspace(0, 200, width, dtype=np.float32), (height, width))
    green = np.broadcast_to(np.linspace(0, 200, height, dtype=np.float32)[:, None], (height, width))
    base = np.stack([red, green, (red + green) / 2], axis=-1).astype(np.int16)
    if noise:
        base = base + rng.integers(-noise, noise + 1, (height, width, 3), dtype=np.int16)
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def small() -> Image.Image:
    return noise_image(400, 300)


@pytest.fixture(scope="module")
def photo_4000x3000() -> bytes:
    return encode(noise_image(4000, 3000, seed=1), "JPEG", quality=95)


def decoded(block_or_bytes) -> Image.Image:
    if isinstance(block_or_bytes, dict):
        block_or_bytes = base64.b64decode(block_or_bytes["source"]["data"])
    image = Image.open(io.BytesIO(block_or_bytes))
    image.load()
    return image


# --- magic bytes, not names ---------------------------------------------------------------------------------

def test_detects_the_four_types_by_content(small):
    assert detect_media_type(encode(small, "PNG")) == "image/png"
    assert detect_media_type(encode(small, "JPEG")) == "image/jpeg"
    assert detect_media_type(encode(small, "GIF")) == "image/gif"
    assert detect_media_type(encode(small, "WEBP")) == "image/webp"
    assert detect_media_type(b"%PDF-1.7\n") is None
    assert detect_media_type(encode(small, "BMP")) is None
    assert detect_media_type(b"") is None


def test_pdf_named_png_is_rejected_with_an_actionable_message(tmp_path):
    path = tmp_path / "photo.png"
    path.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n")
    with pytest.raises(ImageRejected) as caught:
        image_block(path)
    message = str(caught.value)
    assert message.startswith("photo.png is not an image")
    assert "PDF" in message and "upload a PNG, JPEG, GIF or WebP" in message
    assert caught.value.name == "photo.png"
    assert isinstance(caught.value, ValueError)


def test_text_file_named_png_is_rejected():
    with pytest.raises(ImageRejected, match=r"notes\.png is not an image .*plain text.*upload a PNG"):
        prepare_image(b"just some notes\nsecond line", name="notes.png")


@pytest.mark.parametrize(("fmt", "words"), [("BMP", "BMP image"), ("TIFF", "TIFF image")])
def test_image_formats_the_api_refuses_say_to_convert(small, fmt, words):
    with pytest.raises(ImageRejected, match=rf"scan\.png is a {words}, .*convert it to PNG or JPEG"):
        prepare_image(encode(small, fmt), name="scan.png")


def test_empty_file_is_rejected():
    with pytest.raises(ImageRejected, match="empty.png is empty"):
        prepare_image(b"", name="empty.png")


def test_jpeg_named_png_is_accepted_as_jpeg(tmp_path, small):
    path = tmp_path / "holiday.png"
    path.write_bytes(encode(small, "JPEG"))
    block = image_block(path)
    assert block["type"] == "image"
    assert block["source"]["type"] == "base64"
    assert block["source"]["media_type"] == "image/jpeg"
    assert decoded(block).format == "JPEG"


@pytest.mark.parametrize(("fmt", "media_type"), [("GIF", "image/gif"), ("WEBP", "image/webp"), ("PNG", "image/png")])
def test_small_gif_webp_png_are_sent_unchanged(small, fmt, media_type):
    original = encode(small, fmt)
    data, detected, size = prepare_image(original)
    assert (detected, size) == (media_type, (400, 300))
    assert data == original  # nothing to fix: the bytes go out as they came


def test_animated_gif_keeps_its_frames_when_small(small):
    frames = [small, small.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    original = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    data, media_type, _ = prepare_image(original)
    assert media_type == "image/gif" and data == original
    assert decoded(data).n_frames == 2


# --- resizing -----------------------------------------------------------------------------------------------

def test_4000x3000_photo_is_shrunk_to_1568_keeping_aspect(photo_4000x3000):
    assert len(photo_4000x3000) > 5_000_000  # too big to send as it is
    data, media_type, size = prepare_image(photo_4000x3000)
    assert media_type == "image/jpeg"
    assert size == (1568, 1176)
    assert abs(size[0] / size[1] - 4 / 3) < 0.01
    image = decoded(data)
    assert image.size == size and image.format == "JPEG"
    assert len(data) <= 5_000_000


def test_jpeg_decoded_at_exactly_max_side_is_still_re_encoded():
    original = encode(noise_image(3136, 2352, noise=0), "JPEG")  # the 1/2-scale fast decode lands on 1568 exactly
    data, media_type, size = prepare_image(original)
    assert media_type == "image/jpeg" and size == (1568, 1176)
    assert data != original and decoded(data).size == (1568, 1176)


def test_portrait_and_custom_max_side(small):
    portrait = small.transpose(Image.Transpose.ROTATE_90)  # 300 x 400
    data, media_type, size = prepare_image(encode(portrait, "PNG"), max_side=200)
    assert media_type == "image/png" and size == (150, 200)
    assert decoded(data).size == (150, 200)


def test_large_gif_and_webp_become_png(small):
    big = noise_image(1700, 1275, noise=0)
    for fmt in ("GIF", "WEBP"):
        data, media_type, size = prepare_image(encode(big, fmt))
        assert media_type == "image/png", fmt
        assert size == (1568, 1176)
        assert decoded(data).format == "PNG"


def test_exif_rotation_is_applied(small):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    data, _, size = prepare_image(encode(small, "JPEG", exif=exif))
    assert size == (300, 400)
    assert decoded(data).size == (300, 400)


# --- damaged and oversized ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_truncated_image_is_rejected(small, fmt):
    whole = encode(small, fmt)
    with pytest.raises(ImageRejected) as caught:
        prepare_image(whole[: len(whole) // 2], name=f"cut.{fmt.lower()}")
    message = str(caught.value)
    assert message.startswith(f"cut.{fmt.lower()} is a damaged or incomplete")
    assert "upload it again" in message
    assert "BytesIO" not in message


def test_png_cut_inside_its_header_is_rejected(small):
    with pytest.raises(ImageRejected, match="damaged or incomplete PNG"):
        prepare_image(encode(small, "PNG")[:40], name="tiny.png")


def test_result_over_max_bytes_is_rejected_with_sizes(small):
    with pytest.raises(ImageRejected) as caught:
        prepare_image(encode(small, "PNG"), max_side=200, max_bytes=5_000, name="noise.png")
    message = str(caught.value)
    assert message.startswith("noise.png is ")
    assert "after processing (200×150" in message and "over the 5 KB limit" in message
    assert "smaller" in message


def test_over_5_mb_after_processing_is_rejected_at_the_default_limit():
    # Random RGBA pixels at the maximum size: PNG cannot compress them, and the transparency rules out JPEG.
    rng = np.random.default_rng(2)
    noise = Image.fromarray(rng.integers(0, 256, (1568, 1568, 4), dtype=np.uint8), "RGBA")
    data = encode(noise, "PNG")
    assert len(data) > 5_000_000
    with pytest.raises(ImageRejected, match=r"static\.png is [\d.]+ MB after processing .*over the 5\.0 MB limit"):
        prepare_image(data, name="static.png")


def test_big_png_photo_without_alpha_falls_back_to_jpeg():
    data = encode(noise_image(1500, 1200, seed=3), "PNG")
    assert len(data) > 4_000_000
    out, media_type, size = prepare_image(data, max_bytes=3_000_000)
    assert media_type == "image/jpeg" and size == (1500, 1200) and len(out) <= 3_000_000


def test_bad_limits_are_a_programming_error():
    with pytest.raises(ValueError, match="must be positive"):
        prepare_image(b"\x89PNG\r\n\x1a\n", max_side=0)


# --- blocks and messages ------------------------------------------------------------------------------------

def test_image_block_from_bytes_pil_and_block(small):
    from_bytes = image_block(encode(small, "PNG"))
    assert from_bytes["source"]["media_type"] == "image/png"
    from_pil = image_block(small)
    assert decoded(from_pil).size == (400, 300)
    assert image_block(from_bytes) is from_bytes
    with pytest.raises(ImageRejected, match="not an image block"):
        image_block({"type": "text", "text": "hi"})


def test_image_block_refuses_urls_and_unknown_sources():
    with pytest.raises(ImageRejected, match="base64"):
        image_block("https://example.invalid/cat.jpg")
    with pytest.raises(TypeError, match="file path, bytes or a PIL image"):
        image_block(42)


def test_user_message_puts_text_then_images(small, tmp_path):
    path = tmp_path / "a.webp"
    path.write_bytes(encode(small, "WEBP"))
    message = user_message("What is this?", [path, encode(small, "GIF")])
    assert message["role"] == "user"
    assert [block["type"] for block in message["content"]] == ["text", "image", "image"]
    assert message["content"][0] == {"type": "text", "text": "What is this?"}
    assert [b["source"]["media_type"] for b in message["content"][1:]] == ["image/webp", "image/gif"]
    assert user_message("", [small])["content"][0]["type"] == "image"
    with pytest.raises(ValueError):
        user_message("")


# --- the widget ---------------------------------------------------------------------------------------------

def upload(widget: ImageUpload, *files: tuple[str, bytes]) -> None:
    """What the browser sends when files are chosen (ipywidgets 8: a list of dicts with memoryview content)."""
    widget.picker.set_state({"value": [
        {"name": name, "type": "image/png", "size": len(data), "content": memoryview(data), "last_modified": 0}
        for name, data in files]})


def test_upload_good_file_gives_preview_and_block(small):
    widget = ImageUpload()
    upload(widget, ("cat.jpg", encode(small, "JPEG")))
    assert len(widget.blocks) == 1
    assert widget.blocks[0]["source"]["media_type"] == "image/jpeg"
    assert widget.error == ""
    (preview,) = widget.previews.children
    ((tag, attributes),) = [element for element in elements_of(preview.value) if element[0] == "img"]
    assert attributes["alt"] == "preview of cat.jpg" and "<figcaption>cat.jpg</figcaption>" in preview.value
    kind, data = attributes["src"].removeprefix("data:").split(";base64,")
    thumbnail = Image.open(io.BytesIO(base64.b64decode(data)))
    assert kind == "image/jpeg" and thumbnail.format == "JPEG" and thumbnail.size == (320, 240)  # small, not the block
    assert "cat.jpg: 400×300 JPEG" in widget.status.value
    assert widget.picker.value == ()  # reset, so the same file can be chosen again


def test_upload_bad_file_shows_error_and_keeps_earlier_images(small):
    widget = ImageUpload()
    upload(widget, ("first.png", encode(small, "PNG")))
    upload(widget, ("report.png", b"%PDF-1.4 not a picture"), ("second.gif", encode(small, "GIF")))
    assert [b["source"]["media_type"] for b in widget.blocks] == ["image/png", "image/gif"]
    assert widget.error.startswith("report.png is not an image")
    assert "report.png is not an image" in widget.status.value
    assert "2 images ready" in widget.status.value
    assert len(widget.previews.children) == 2


def test_upload_file_names_are_escaped(small):
    widget = ImageUpload()
    evil = "<img src=x onerror=alert(1)>.png"
    upload(widget, (evil, b"not an image at all"), ("<b>ok</b>.png", encode(small, "PNG")),
           ('" onerror="alert(2).png', encode(small, "PNG")))
    shown = widget.status.value
    assert "<img" not in shown and "<b>" not in shown
    previews = [element for preview in widget.previews.children for element in elements_of(preview.value)]
    assert [tag for tag, _ in previews] == ["figure", "img", "figcaption"] * 2  # the names stay text
    assert [attributes for tag, attributes in previews if tag == "img" and set(attributes) != {"alt", "src"}] == []
    assert "&lt;img src=x onerror=alert(1)&gt;.png is not an image" in shown
    assert "&lt;b&gt;ok&lt;/b&gt;.png" in shown
    assert widget.error.startswith(evil)  # the trait holds plain text; only the HTML view is escaped


def test_upload_respects_traits_and_clear(small):
    widget = ImageUpload(max_side=100)
    upload(widget, ("big.png", encode(small, "PNG")))
    assert decoded(widget.blocks[0]).size == (100, 75)
    widget.max_bytes = 100
    upload(widget, ("again.png", encode(small, "PNG")))
    assert "over the 100 bytes limit" in widget.error
    assert len(widget.blocks) == 1
    blocks = widget.blocks
    blocks.clear()
    assert len(widget.blocks) == 1  # .blocks is a copy
    widget.clear()
    assert widget.blocks == [] and widget.previews.children == () and widget.error == ""
