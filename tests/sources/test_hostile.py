"""Hostile and careless files (fault suite): every one is skipped with a reason, in bounded memory,
and the rest of the folder is indexed."""

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sources.errors import SourceError
from sources.limits import Limits, check_docx
from sources.loaders import load, load_paths


def _docx_bytes(document_xml: bytes) -> bytes:
    """A real .docx (python-docx's template) whose word/document.xml is replaced."""
    import docx

    buf = io.BytesIO()
    docx.Document().save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = document_xml if info.filename == "word/document.xml" else src.read(info)
            dst.writestr(info.filename, data)
    return out.getvalue()


_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w='
         b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
_TAIL = b"</w:body></w:document>"


def _paragraphs(n: int, text: bytes = b"a") -> bytes:
    return _HEAD + b"<w:p><w:r><w:t>" + text + b"</w:t></w:r></w:p>" * 1 + (
        b"<w:p><w:r><w:t>" + text + b"</w:t></w:r></w:p>") * (n - 1) + _TAIL


def _peak_mb_loading(path: Path) -> tuple[float, str]:
    code = ("import sys\nfrom sources.loaders import load\nfrom sources.errors import SourceError\n"
            f"try:\n    load({str(path)!r}); r = 'loaded'\nexcept SourceError as e:\n    r = str(e)\n"
            # VmHWM: this process's own peak (ru_maxrss would carry the parent's across exec).
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
            "print(int(hwm) / 1024); print(r)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[2]).stdout.splitlines()
    return float(out[0]), out[1]


def test_a_docx_deflate_bomb_is_refused_in_bounded_memory(tmp_path):
    bomb = tmp_path / "bomb.docx"
    bomb.write_bytes(_docx_bytes(_HEAD + b"<w:p><w:r><w:t>" + b"A" * (300 * 1024 * 1024) + b"</w:t></w:r></w:p>"
                                 + _TAIL))
    assert bomb.stat().st_size < 2 * 1024 * 1024        # 300 MB of XML in under 2 MB
    peak, reason = _peak_mb_loading(bomb)
    assert "expands to over" in reason and "zip bomb" in reason
    assert peak < 150, f"peak RSS {peak:.0f} MB"


def test_a_docx_with_millions_of_paragraphs_is_refused(tmp_path):
    many = tmp_path / "paragraphs.docx"
    many.write_bytes(_docx_bytes(_paragraphs(250_000)))
    peak, reason = _peak_mb_loading(many)
    assert "paragraphs" in reason and peak < 150, (reason, peak)


def test_an_xml_entity_bomb_is_refused(tmp_path):
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                         for i in range(1, 10))
              + b']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                b"<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>")
    f = tmp_path / "lol.docx"
    f.write_bytes(_docx_bytes(laughs))
    with pytest.raises(SourceError, match="declares XML entities"):
        load(f)


def test_a_docx_of_thousands_of_parts_is_refused(tmp_path):
    f = tmp_path / "parts.docx"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(2500):
            z.writestr(f"word/p{i}.xml", b"<x/>")
    f.write_bytes(buf.getvalue())
    with pytest.raises(SourceError, match="2500 parts"):
        load(f)


def test_check_docx_counts_what_is_decompressed(tmp_path):
    f = tmp_path / "ok.docx"
    f.write_bytes(_docx_bytes(_paragraphs(50)))
    check_docx(f)
    with pytest.raises(SourceError, match="over 49 paragraphs|over 49"):
        check_docx(f, Limits(paragraphs=49))
    with pytest.raises(SourceError, match="expands to over"):
        check_docx(f, Limits(xml_bytes=1000, zip_total_bytes=1000))


def test_huge_text_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        fh.truncate(40 * 1024 * 1024)     # sparse: no time spent writing it
    with pytest.raises(SourceError, match="over the 32 MB limit"):
        load(big)


def test_mixed_encodings_are_refused_not_garbled(tmp_path):
    f = tmp_path / "mixed.txt"
    f.write_bytes("مجلس الأمن الدولي أصدر القرار.\n".encode() * 20
                  + "نظام الأمن الجماعي في الأمم المتحدة.\n".encode("cp1256") * 20)
    with pytest.raises(SourceError, match="mixes UTF-8 with another encoding"):
        load(f)
    g = tmp_path / "cp1256.txt"
    g.write_bytes("نظام الأمن الجماعي في الأمم المتحدة.\n".encode("cp1256") * 20)
    assert "الأمن الجماعي" in load(g).text         # one encoding, not UTF-8: still read


def test_a_folder_with_bad_files_and_a_symlink_loop_indexes_the_rest(tmp_path):
    d = tmp_path / "docs"
    (d / "sub").mkdir(parents=True)
    (d / "good.txt").write_text("مجلس الأمن الدولي هو أحد أجهزة الأمم المتحدة.", encoding="utf-8")
    os.symlink(d, d / "sub" / "loop")                    # a folder that contains itself
    os.symlink(d / "missing.txt", d / "dangling.txt")   # a symlink to nothing
    (d / "empty.txt").write_text("")
    (d / "bomb.docx").write_bytes(_docx_bytes(_paragraphs(250_000)))
    report = load_paths([d])
    assert [Path(doc.source).name for doc in report.documents] == ["good.txt"]
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert "paragraphs" in reasons["bomb.docx"] and "empty" in reasons["empty.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions (CI runs as root)")
def test_an_unreadable_file_and_folder_are_skipped(tmp_path):
    d = tmp_path / "docs"
    (d / "locked").mkdir(parents=True)
    (d / "good.txt").write_text("The Security Council adopted resolution 678.", encoding="utf-8")
    (d / "secret.txt").write_text("x")
    os.chmod(d / "secret.txt", 0)
    os.chmod(d / "locked", 0)
    try:
        report = load_paths([d])
    finally:
        os.chmod(d / "locked", 0o755)
    assert [Path(x.source).name for x in report.documents] == ["good.txt"]
    assert {Path(s.path).name for s in report.skipped} >= {"secret.txt", "locked"}
