"""The PDF helper process that renders supporters' downloads outside the web worker."""

from __future__ import annotations

import dataclasses
import subprocess
import time
from pathlib import Path

import pytest

from undersigned.delivery import pdf_process
from undersigned.delivery.printing import PrintableLetter

LETTER = PrintableLetter(
    sender_name="Siobhán O'Brien",
    sender_address=["12 Eastfield Road", "Wendmouth", "WM2 3BB"],
    recipient_name="Councillor Rowan Ashby",
    recipient_address=["Wendmouth Borough Council", "Town Hall", "Wendmouth", "WM1 1AA"],
    date_text="23 November 2026",
    place="Wendmouth",
    subject="Please keep the riverside path open",
    body="Dear Councillor Ashby,\n\nMy son walks this path to school every morning.",
    signature="Siobhán O'Brien",
)


def _text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "letter.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_one_helper_renders_one_pdf_after_another(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    helper = pdf_process._Helper(idle_seconds=30)
    monkeypatch.setattr(pdf_process, "_helper", helper)
    try:
        first = pdf_process.render_letters([LETTER])
        pid = helper.pid
        second = pdf_process.render_letters([dataclasses.replace(LETTER, sender_name="Ana Ruiz")])
        assert pid is not None
        assert helper.pid == pid  # the same process, warm
        assert "Siobhán O'Brien" in _text(first, tmp_path)
        assert "Ana Ruiz" in _text(second, tmp_path)
    finally:
        helper.stop()


def test_an_idle_helper_exits_and_the_next_pdf_starts_a_new_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    helper = pdf_process._Helper(idle_seconds=0.5)
    monkeypatch.setattr(pdf_process, "_helper", helper)
    try:
        pdf_process.render_letters([LETTER])
        process = helper.process
        assert process is not None
        process.wait(timeout=20)  # gone by itself, with typst's memory
        assert process.returncode == 0
        time.sleep(0.1)
        assert "Councillor Rowan Ashby" in _text(pdf_process.render_letters([LETTER]), tmp_path)
        assert helper.process is not process
    finally:
        helper.stop()


def test_input_the_renderer_refuses_comes_back_as_value_error(monkeypatch: pytest.MonkeyPatch) -> None:
    helper = pdf_process._Helper(idle_seconds=30)
    monkeypatch.setattr(pdf_process, "_helper", helper)
    try:
        too_long = dataclasses.replace(LETTER, recipient_address=[f"Line {n}" for n in range(12)])
        with pytest.raises(ValueError, match=r"\w"):
            pdf_process.render_letters([too_long])
        assert pdf_process.render_letters([LETTER]).startswith(b"%PDF")  # the helper lives on
    finally:
        helper.stop()
