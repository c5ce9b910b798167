"""TranscriptionReport: CER/WER come from jiwer, corpus-level."""

from __future__ import annotations

import jiwer
import pytest

from toolkit.evaluation.transcription import TranscriptionReport


def test_error_rates_are_jiwers():
    references = ["three one four", "one five nine two", "six"]
    hypotheses = ["three one for", "one five nine two", "six six"]
    report = TranscriptionReport.from_predictions("speech", references, hypotheses)
    assert report.metrics["wer"] == pytest.approx(jiwer.wer(references, hypotheses))
    assert report.metrics["cer"] == pytest.approx(jiwer.cer(references, hypotheses))
    assert report.metrics["wer"] == pytest.approx(2 / 8)
    assert report.metrics["exact_match"] == pytest.approx(1 / 3)
    markdown = report.to_markdown()
    assert "| wer |" in markdown and "| three one four | three one for |" in markdown
    assert '"cer"' in report.to_json()


def test_rejects_empty_references_and_length_mismatch():
    with pytest.raises(ValueError, match="non-empty"):
        TranscriptionReport.from_predictions("speech", ["", "one"], ["a", "one"])
    with pytest.raises(ValueError, match="same length"):
        TranscriptionReport.from_predictions("speech", ["one"], ["one", "two"])
