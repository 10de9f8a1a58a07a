"""Resource bounds for loading hostile or careless files, enforced while reading, not after.

A .docx is a zip: its XML parts are decompressed here first, in a stream, counting the bytes
actually produced (a zip's declared sizes can lie) and the paragraphs, and refusing entity
declarations (XML bombs) — before python-docx builds its tree. Text files are capped by size,
PDFs by pages. Every refusal is a ``SourceError`` whose reason names the limit and the fix.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sources.errors import SourceError

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    text_bytes: int = 32 * MB          # txt, md, html as read from disk
    file_bytes: int = 200 * MB         # any file on disk (pdf and docx are compressed)
    zip_members: int = 2000            # parts in a .docx
    xml_bytes: int = 64 * MB           # one decompressed .docx XML part
    zip_total_bytes: int = 256 * MB    # all decompressed .docx parts together
    paragraphs: int = 200_000          # paragraphs in a .docx
    pdf_pages: int = 3000
    seconds: float = 300.0             # reading one PDF (pdfminer can be made to crawl)


LIMITS = Limits()
_ENTITY = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_PARAGRAPH = re.compile(rb"<w:p[ >/]")


def check_docx(path: Path, limits: Limits = LIMITS) -> None:
    """Stream through the parts python-docx will parse; raise ``SourceError`` past any limit."""
    where = str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > limits.zip_members:
                raise SourceError(where, f"holds {len(infos)} parts, over the limit of {limits.zip_members} for a "
                                         ".docx; it is not an ordinary document")
            total = 0
            for info in infos:
                if not info.filename.endswith((".xml", ".rels")):
                    continue
                produced, paragraphs, tail = 0, 0, b""
                with zf.open(info) as fh:
                    while chunk := fh.read(1 << 20):
                        produced += len(chunk)
                        total += len(chunk)
                        window = tail + chunk
                        if _ENTITY.search(window):
                            raise SourceError(where, f"part {info.filename} declares XML entities (a possible XML "
                                                     "bomb); re-save the document from a word processor")
                        paragraphs += len(_PARAGRAPH.findall(window)) - len(_PARAGRAPH.findall(tail))
                        tail = chunk[-16:]
                        if produced > limits.xml_bytes or total > limits.zip_total_bytes:
                            raise SourceError(where, f"expands to over {min(limits.xml_bytes, limits.zip_total_bytes) // MB} "
                                                     "MB of XML (a zip bomb, or a document too large to index "
                                                     "whole); split it into smaller documents")
                        if paragraphs > limits.paragraphs:
                            raise SourceError(where, f"has over {limits.paragraphs:,} paragraphs; split it into "
                                                     "smaller documents")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise SourceError(where, f"is not a readable .docx file ({type(exc).__name__}: {exc}); re-save it from a "
                                 "word processor") from None


def check_size(path: Path, limit: int, kind: str) -> None:
    size = path.stat().st_size
    if size > limit:
        raise SourceError(str(path), f"is {size / MB:.0f} MB, over the {limit // MB} MB limit for {kind}; split it "
                                     "into smaller files")


def mixed_encoding(data: bytes) -> bool:
    """Bytes that are not valid UTF-8 yet hold many UTF-8 sequences: two encodings in one file."""
    high = sum(1 for b in data if b >= 0x80)
    if high < 16:
        return False
    utf8 = len(re.findall(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}", data))
    return utf8 * 2 >= 0.2 * high
