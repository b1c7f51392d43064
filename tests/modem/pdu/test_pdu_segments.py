"""segment_info and choose_encoding: the composer's counter agrees with what goes out."""

from __future__ import annotations

import pytest

from modem.pdu import (
    Encoding,
    SegmentInfo,
    choose_encoding,
    encode_submit,
    segment_info,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SegmentInfo(Encoding.GSM7, 1, 0, 160, 160, ())),
        ("a" * 160, SegmentInfo(Encoding.GSM7, 1, 160, 160, 0, ())),
        ("a" * 161, SegmentInfo(Encoding.GSM7, 2, 161, 153, 145, ())),
        ("€" * 80, SegmentInfo(Encoding.GSM7, 1, 160, 160, 0, ())),
        # 76 euros (152 septets) fill a part: a 77th would be split, so it starts part 2.
        ("€" * 81, SegmentInfo(Encoding.GSM7, 2, 162, 153, 143, ())),
        ("é" * 70, SegmentInfo(Encoding.GSM7, 1, 70, 160, 90, ())),
        ("ё" * 70, SegmentInfo(Encoding.UCS2, 1, 70, 70, 0, ("ё",))),
        ("ё" * 71, SegmentInfo(Encoding.UCS2, 2, 71, 67, 63, ("ё",))),
        ("😀" * 35, SegmentInfo(Encoding.UCS2, 1, 70, 70, 0, ("😀",))),
        # 33 emoji (66 units) per part; the 34th would split a pair.
        ("😀" * 36, SegmentInfo(Encoding.UCS2, 2, 72, 67, 61, ("😀",))),
        ("Zkouška šíř", SegmentInfo(Encoding.UCS2, 1, 11, 70, 59, ("š", "í", "ř"))),
    ],
)
def test_segment_info(text: str, expected: SegmentInfo) -> None:
    assert segment_info(text) == expected
    assert len(encode_submit("+1", text, concat_ref=0)) == expected.parts


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("hello {world} €5", Encoding.GSM7),
        ("naïve", Encoding.UCS2),
        ("`", Encoding.UCS2),
    ],
)
def test_choose_encoding(text: str, encoding: Encoding) -> None:
    assert choose_encoding(text) is encoding
