"""The Free Spoken Digit Dataset: file listing, conventional splits, and digit-string utterances.

Recordings are named ``{digit}_{speaker}_{index}.wav``; index 0-4 of each speaker is
the conventional test split. :func:`concatenate_digits` builds transcription data from
real recordings: several digits of *one* speaker joined by short silences, with the
transcript (``"three one four"``) known by construction.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.preprocessing.audio import read_wav

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
#: Recording indices of the conventional test split.
TEST_INDICES = range(0, 5)


def list_fsdd(directory: str | Path) -> pd.DataFrame:
    """One row per recording: ``path``, ``digit`` (int), ``speaker``, ``index`` (int).

    ``directory`` is the dataset folder or its ``recordings/`` subfolder.

    Examples
    --------
    >>> list_fsdd("../shared/data/fsdd").columns.tolist()  # doctest: +SKIP
    ['path', 'digit', 'speaker', 'index']
    """
    directory = Path(directory)
    if (directory / "recordings").is_dir():
        directory = directory / "recordings"
    rows = []
    for path in sorted(directory.glob("*.wav")):
        parts = path.stem.split("_")
        if len(parts) != 3 or not parts[0].isdigit() or not parts[2].isdigit():
            raise ValueError(f"Not an FSDD file name ({{digit}}_{{speaker}}_{{index}}.wav). "
                             f"Received: {path.name!r}")
        rows.append({"path": str(path), "digit": int(parts[0]), "speaker": parts[1],
                     "index": int(parts[2])})
    if not rows:
        raise ValueError(f"No .wav recordings found in {str(directory)!r}")
    return pd.DataFrame(rows, columns=["path", "digit", "speaker", "index"])


def concatenate_digits(
    recordings: pd.DataFrame,
    count: int,
    *,
    digits: tuple[int, int] = (3, 5),
    silence: tuple[float, float] = (0.05, 0.25),
    seed: int = 0,
) -> tuple[list[np.ndarray], list[str], list[str]]:
    """Build ``count`` spoken digit strings from real recordings, one speaker each.

    For each utterance a speaker is drawn, then ``digits[0]..digits[1]`` of that
    speaker's recordings (digits may repeat, recordings do not within an utterance);
    they are peak-normalised (speakers differ ~10x in loudness) and joined with random
    silences of ``silence[0]..silence[1]`` seconds, also before the first and after the
    last digit.

    Parameters
    ----------
    recordings : DataFrame
        Rows of :func:`list_fsdd` (e.g. only the training speakers); one sample rate.
    count : int
        Utterances to make.
    digits : (int, int)
        Inclusive range of digits per utterance.
    silence : (float, float)
        Range of each silence, in seconds.
    seed : int
        Same seed, same utterances.

    Returns
    -------
    (waveforms, transcripts, speakers)
        float32 waveforms, transcripts such as ``"three one four"``, and the speaker of
        each.
    """
    rng = np.random.default_rng(seed)
    cache: dict[str, tuple[np.ndarray, int]] = {}
    by_speaker = {speaker: rows.reset_index(drop=True)
                  for speaker, rows in recordings.groupby("speaker")}
    speakers = sorted(by_speaker)
    if not speakers:
        raise ValueError("recordings is empty")
    waveforms, transcripts, chosen_speakers = [], [], []
    for _ in range(int(count)):
        speaker = speakers[rng.integers(len(speakers))]
        rows = by_speaker[speaker]
        n = int(rng.integers(digits[0], digits[1] + 1))
        picks = rows.iloc[rng.choice(len(rows), size=min(n, len(rows)), replace=False)]
        rate, pieces = None, []
        for path in picks["path"]:
            if path not in cache:
                cache[path] = read_wav(path)
            waveform, file_rate = cache[path]
            if rate is not None and file_rate != rate:
                raise ValueError(f"Recordings must share one sample rate. Received: {file_rate} "
                                 f"Hz in {path!r}, {rate} Hz before")
            rate = file_rate
            pieces.append(_gap(rng, silence, rate))
            pieces.append(waveform / max(float(np.abs(waveform).max()), 1e-4))
        pieces.append(_gap(rng, silence, rate))
        waveforms.append(np.concatenate(pieces).astype("float32"))
        transcripts.append(" ".join(DIGIT_WORDS[d] for d in picks["digit"]))
        chosen_speakers.append(speaker)
    return waveforms, transcripts, chosen_speakers


def _gap(rng, silence: tuple[float, float], rate: int) -> np.ndarray:
    return np.zeros(int(rng.uniform(*silence) * rate), dtype="float32")


__all__ = ["DIGIT_WORDS", "TEST_INDICES", "concatenate_digits", "list_fsdd"]
