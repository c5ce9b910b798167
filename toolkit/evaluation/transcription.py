"""Metrics and report for transcription: character and word error rates (jiwer)."""

from __future__ import annotations

import jiwer

from toolkit.evaluation.report import Report

#: Examples of (reference, hypothesis) pairs kept in the report.
SHOWN_EXAMPLES = 10


class TranscriptionReport(Report):
    """Corpus-level CER and WER computed by jiwer, plus exact-match rate and examples.

    Examples
    --------
    >>> report = TranscriptionReport.from_predictions(
    ...     "speech", ["one two", "three"], ["one two", "tree"])
    >>> report.metrics["wer"], round(report.metrics["cer"], 3)
    (0.3333333333333333, 0.083)
    """

    @classmethod
    def from_predictions(cls, task: str, references, hypotheses) -> TranscriptionReport:
        references, hypotheses = [str(r) for r in references], [str(h) for h in hypotheses]
        if len(references) != len(hypotheses):
            raise ValueError("references and hypotheses must have the same length. Received: "
                             f"{len(references)} and {len(hypotheses)}")
        if not references or not all(r.strip() for r in references):
            raise ValueError("Every reference transcript must be non-empty (jiwer needs words "
                             "to count errors against).")
        metrics = {
            "cer": float(jiwer.cer(references, hypotheses)),
            "wer": float(jiwer.wer(references, hypotheses)),
            "exact_match": float(sum(r == h for r, h in zip(references, hypotheses))
                                 / len(references)),
            "utterances": len(references),
            "examples": [{"reference": r, "hypothesis": h}
                         for r, h in list(zip(references, hypotheses))[:SHOWN_EXAMPLES]],
        }
        return cls(task, metrics)

    def _markdown_details(self) -> list[str]:
        lines = ["", "| reference | hypothesis |", "|---|---|"]
        for example in self.metrics["examples"]:
            lines.append(f"| {example['reference']} | {example['hypothesis']} |")
        return lines


__all__ = ["TranscriptionReport"]
