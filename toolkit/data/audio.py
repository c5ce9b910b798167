"""Reading audio inputs: WAV paths, class-per-subfolder directories, NumPy waveforms."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from toolkit.preprocessing.audio import pcm_to_float, read_wav, resample, to_mono

AUDIO_SUFFIXES = (".wav",)
#: A 2-D waveform array this narrow is one clip's channels, not that many clips.
MAX_CHANNELS = 8


def is_audio_path_list(X) -> bool:
    """Whether ``X`` is a non-empty list/array of paths to audio files (by suffix)."""
    if isinstance(X, (str, Path)) or not isinstance(X, (list, tuple, np.ndarray)) or len(X) == 0:
        return False
    return all(isinstance(x, (str, Path)) and Path(x).suffix.lower() in AUDIO_SUFFIXES
               for x in X)


def read_audio_folder(directory: str | Path) -> tuple[list[Path], np.ndarray]:
    """Paths and labels of a class-per-subfolder directory of WAV files.

    Like ``keras.utils.audio_dataset_from_directory``: each subfolder is a class, its
    name the label; files are listed in sorted order.

    Raises
    ------
    ValueError
        If the folder has no subfolders with WAV files.
    """
    directory = Path(directory)
    paths, labels = [], []
    for sub in sorted(p for p in directory.iterdir() if p.is_dir()):
        for path in sorted(sub.iterdir()):
            if path.suffix.lower() in AUDIO_SUFFIXES:
                paths.append(path)
                labels.append(sub.name)
    if not paths:
        raise ValueError("Expected a class-per-subfolder directory of .wav files. "
                         f"Received: X={str(directory)!r} with none")
    return paths, np.asarray(labels)


def load_waveforms(X, *, sample_rate: int | None) -> tuple[list[np.ndarray], int]:
    """Decode ``X`` into mono float32 waveforms at one rate.

    Parameters
    ----------
    X : list of paths, list of 1-D arrays, or 2-D array ``(n, samples)``
        WAV files are decoded and resampled to ``sample_rate``; arrays are taken to be
        at ``sample_rate`` already, and integer PCM arrays (``uint8``, ``int16``,
        ``int32``) are scaled to [-1, 1] as the same WAV file would be.
    sample_rate : int or None
        Target rate. ``None`` takes the first file's rate (arrays then need one).

    Returns
    -------
    (waveforms, sample_rate)
    """
    if is_audio_path_list(X):
        waveforms = []
        for path in X:
            waveform, rate = read_wav(path)
            sample_rate = rate if sample_rate is None else sample_rate
            waveforms.append(resample(waveform, rate, sample_rate))
        return waveforms, int(sample_rate)
    if isinstance(X, (str, Path)):
        raise ValueError("Expected a list of .wav paths (wrap a single file in a list), a "
                         f"class-per-subfolder directory or waveforms. Received: X={str(X)!r}")
    if sample_rate is None:
        raise ValueError("Waveform arrays need their rate: pass sample_rate=... to the task. "
                         "Received: sample_rate=None")
    if isinstance(X, np.ndarray) and X.ndim == 1 and X.dtype != object:
        raise ValueError("Expected a list of waveforms (or a 2-D array, one clip per row); "
                         "wrap a single clip in a list. Received: one 1-D array of shape "
                         f"{X.shape}")
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype != object:
        if X.shape[1] <= MAX_CHANNELS < X.shape[0]:
            raise ValueError("This looks like one multi-channel clip (samples, channels), not "
                             f"{X.shape[0]} clips of {X.shape[1]} samples: wrap it in a list, "
                             f"[clip]. Received: an array of shape {X.shape}")
        X = list(X)
    if not isinstance(X, (list, tuple, np.ndarray)):
        raise TypeError("Expected a list of .wav paths, a folder or waveform arrays. "
                        f"Received: {type(X).__name__}")
    waveforms = []
    paths = [i for i, entry in enumerate(X) if isinstance(entry, (str, Path))]
    if paths and len(paths) < len(X) and is_audio_path_list([X[i] for i in paths]):
        raise ValueError("X mixes file paths and waveform arrays: pass one kind (read the "
                         "files, or write the arrays to WAV). Received: entry "
                         f"{paths[0]}, {str(X[paths[0]])!r}, among arrays")
    for index, waveform in enumerate(X):
        if isinstance(waveform, (str, Path)) and Path(waveform).suffix.lower() in AUDIO_SUFFIXES:
            continue  # other entries are the paths that are not WAV: named below
        if isinstance(waveform, (str, Path)):
            raise ValueError(f"Entry {index} is a path but not a {'/'.join(AUDIO_SUFFIXES)} "
                             "file; only WAV is read (convert other formats first, e.g. with "
                             f"ffmpeg). Received: {str(waveform)!r}")
        waveform = np.asarray(waveform)
        if (waveform.dtype == object or not np.issubdtype(waveform.dtype, np.number)
                or np.iscomplexobj(waveform)):
            raise TypeError(f"Waveform {index} is not numeric. Received: dtype={waveform.dtype}")
        if waveform.size == 0:
            raise ValueError(f"Waveform {index} holds no samples.")
        waveforms.append(to_mono(pcm_to_float(waveform)))  # int16 arrays as int16 files
    return waveforms, int(sample_rate)


__all__ = ["AUDIO_SUFFIXES", "is_audio_path_list", "load_waveforms", "read_audio_folder"]
