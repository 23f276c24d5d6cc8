"""A reader for Android's compiled ("binary") XML, enough to see a manifest's elements.

APKs built by the Android toolchain hold ``AndroidManifest.xml`` in this form,
not as text; the emulators read package, version and launcher category from it
without depending on Android tools.
"""

from __future__ import annotations

import struct

# A manifest as a flat list of (tag, {local attribute name: value}) in document order.
Elements = list[tuple[str, dict[str, str]]]

_MAGIC = b"\x03\x00\x08\x00"
_STRING_POOL_CHUNK = 0x0001
_START_ELEMENT_CHUNK = 0x0102
_NO_STRING = 0xFFFFFFFF
_TYPE_STRING = 0x03
_UTF8_FLAG = 0x100


def is_binary_xml(data: bytes) -> bool:
    return data.startswith(_MAGIC)


def binary_xml_elements(data: bytes) -> Elements:
    """Start elements of Android's compiled XML: a header, a string pool, then chunks."""
    strings: list[str] = []
    elements: Elements = []
    offset = struct.unpack_from("<H", data, 2)[0]
    while offset + 8 <= len(data):
        kind, header_size, size = struct.unpack_from("<HHI", data, offset)
        if size < 8:
            raise ValueError(f"corrupt binary XML chunk at byte {offset}")
        if kind == _STRING_POOL_CHUNK:
            strings = _string_pool(data, offset, header_size)
        elif kind == _START_ELEMENT_CHUNK:
            elements.append(_start_element(data, offset + header_size, strings))
        offset += size
    return elements


def _string_pool(data: bytes, base: int, header_size: int) -> list[str]:
    count, _styles, flags, strings_start = struct.unpack_from("<IIII", data, base + 8)
    offsets = struct.unpack_from(f"<{count}I", data, base + header_size)
    read = _utf8_string if flags & _UTF8_FLAG else _utf16_string
    return [read(data, base + strings_start + each) for each in offsets]


def _utf8_string(data: bytes, at: int) -> str:
    _chars, at = _utf8_length(data, at)
    length, at = _utf8_length(data, at)
    return data[at : at + length].decode("utf-8")


def _utf8_length(data: bytes, at: int) -> tuple[int, int]:
    first = data[at]
    if first & 0x80:
        return ((first & 0x7F) << 8) | data[at + 1], at + 2
    return first, at + 1


def _utf16_string(data: bytes, at: int) -> str:
    length = struct.unpack_from("<H", data, at)[0]
    at += 2
    if length & 0x8000:
        length = ((length & 0x7FFF) << 16) | struct.unpack_from("<H", data, at)[0]
        at += 2
    return data[at : at + 2 * length].decode("utf-16-le")


def _start_element(data: bytes, body: int, strings: list[str]) -> tuple[str, dict[str, str]]:
    _namespace, name, attr_start, attr_size, attr_count = struct.unpack_from("<IIHHH", data, body)
    attrs: dict[str, str] = {}
    for index in range(attr_count):
        at = body + attr_start + index * attr_size
        _ns, attr_name, raw, _size, _res0, value_type, value = struct.unpack_from("<IIIHBBI", data, at)
        if raw != _NO_STRING:
            attrs[strings[attr_name]] = strings[raw]
        elif value_type == _TYPE_STRING:
            attrs[strings[attr_name]] = strings[value]
        else:
            attrs[strings[attr_name]] = str(value)
    return strings[name], attrs
