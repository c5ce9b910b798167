"""FSDD listing and the concatenated-digit utterance builder (on synthesized files)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.io import wavfile

from toolkit.data.fsdd import DIGIT_WORDS, concatenate_digits, list_fsdd

RATE = 8000


@pytest.fixture
def fake_fsdd(tmp_path):
    """Two speakers x 3 digits x 2 takes; each clip a constant whose value encodes it."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    for s, speaker in enumerate(["ann", "bob"]):
        loudness = 0.1 if speaker == "ann" else 0.9
        for digit in range(3):
            for index in range(2):
                value = loudness * (1 + digit + 10 * s) / 30
                clip = np.full(400 + 100 * digit, value * 32767, dtype="int16")
                wavfile.write(folder / f"{digit}_{speaker}_{index}.wav", RATE, clip)
    return tmp_path


def test_list_fsdd_parses_names(fake_fsdd):
    frame = list_fsdd(fake_fsdd)
    assert frame.columns.tolist() == ["path", "digit", "speaker", "index"]
    assert len(frame) == 12 and set(frame["speaker"]) == {"ann", "bob"}
    assert sorted(frame["digit"].unique()) == [0, 1, 2]
    (fake_fsdd / "recordings" / "notes_here.wav").write_bytes(b"")
    with pytest.raises(ValueError, match="notes_here.wav"):
        list_fsdd(fake_fsdd)


def test_concatenated_utterances_have_one_speaker_and_true_transcripts(fake_fsdd):
    frame = list_fsdd(fake_fsdd)
    waveforms, transcripts, speakers = concatenate_digits(frame, 20, digits=(2, 3),
                                                          silence=(0.05, 0.1), seed=3)
    assert len(waveforms) == len(transcripts) == len(speakers) == 20
    for waveform, transcript, speaker in zip(waveforms, transcripts, speakers):
        words = transcript.split()
        assert 2 <= len(words) <= 3 and set(words) <= set(DIGIT_WORDS[:3])
        # Pieces are separated by silence; each piece is one clip, peak-normalised to 1.
        sound = np.abs(waveform) > 0
        starts = np.flatnonzero(np.diff(sound.astype(int)) == 1)
        assert len(starts) == len(words) and not sound[0] and not sound[-1]
        pieces = np.split(waveform, np.flatnonzero(np.diff(sound.astype(int))) + 1)
        pieces = [p for p in pieces if p.any()]
        lengths = [len(p) for p in pieces]
        assert lengths == [400 + 100 * DIGIT_WORDS.index(w) for w in words]
        assert all(np.allclose(p, 1.0) for p in pieces)
        assert speaker in ("ann", "bob")
        min_gap = int(0.05 * RATE)
        assert len(waveform) >= sum(lengths) + (len(words) + 1) * min_gap
    assert len(set(speakers)) == 2
    again = concatenate_digits(frame, 20, digits=(2, 3), silence=(0.05, 0.1), seed=3)
    assert again[1] == transcripts


def test_real_fsdd_listing(data_dir):
    folder = data_dir / "fsdd"
    if not folder.is_dir():
        pytest.skip(f"FSDD not found at {folder}")
    frame = list_fsdd(folder)
    assert len(frame) == 2000 and frame["speaker"].nunique() == 4
    assert (frame["index"] < 5).sum() == 200
