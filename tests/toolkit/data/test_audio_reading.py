"""Reading WAV lists, class folders and waveform arrays into one rate."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.io import wavfile

from toolkit.data.audio import is_audio_path_list, load_waveforms, read_audio_folder


def test_files_are_resampled_to_one_rate(tmp_path):
    wavfile.write(tmp_path / "a.wav", 8000, np.zeros(800, dtype="int16"))
    wavfile.write(tmp_path / "b.wav", 16000, np.zeros((1600, 2), dtype="int16"))
    waveforms, rate = load_waveforms([tmp_path / "a.wav", str(tmp_path / "b.wav")],
                                     sample_rate=None)
    assert rate == 8000 and [len(w) for w in waveforms] == [800, 800]
    waveforms, rate = load_waveforms([tmp_path / "a.wav"], sample_rate=16000)
    assert rate == 16000 and len(waveforms[0]) == 1600


@pytest.mark.parametrize("dtype", ["uint8", "int16", "int32"])
def test_integer_pcm_arrays_read_as_their_wav_files(tmp_path, dtype):
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype)
    pcm = rng.integers(info.min, info.max, size=400, endpoint=True).astype(dtype)
    wavfile.write(tmp_path / "clip.wav", 8000, pcm)
    (from_file,), _ = load_waveforms([tmp_path / "clip.wav"], sample_rate=8000)
    (from_array,), _ = load_waveforms([pcm], sample_rate=8000)
    np.testing.assert_array_equal(from_array, from_file)
    assert np.abs(from_array).max() <= 1.0


def test_arrays_need_a_rate_and_numbers():
    waveforms, rate = load_waveforms(np.zeros((3, 100)), sample_rate=8000)
    assert len(waveforms) == 3 and rate == 8000
    with pytest.raises(ValueError, match="sample_rate"):
        load_waveforms([np.zeros(10)], sample_rate=None)
    with pytest.raises(ValueError, match="Waveform 1 holds no samples"):
        load_waveforms([np.zeros(10), np.zeros(0)], sample_rate=8000)
    with pytest.raises(ValueError, match="wrap a single file"):
        load_waveforms("clip.wav", sample_rate=8000)
    with pytest.raises(ValueError, match="mixes file paths and waveform arrays"):
        load_waveforms(["clip.wav", np.zeros(10)], sample_rate=8000)
    with pytest.raises(ValueError, match=r"Entry 1 is a path but not a \.wav file"):
        load_waveforms(["clip.wav", "clip.mp3"], sample_rate=8000)


def test_class_per_subfolder(tmp_path):
    for label in ("no", "yes"):
        (tmp_path / label).mkdir()
        for i in range(2):
            wavfile.write(tmp_path / label / f"{i}.wav", 8000, np.zeros(10, dtype="int16"))
    (tmp_path / "yes" / "readme.txt").write_text("not audio")
    paths, labels = read_audio_folder(tmp_path)
    assert labels.tolist() == ["no", "no", "yes", "yes"] and is_audio_path_list(paths)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="class-per-subfolder"):
        read_audio_folder(tmp_path / "empty")


def test_one_unwrapped_multichannel_clip_and_non_wav_paths_are_named():
    clip = np.zeros((4000, 2), "float32")
    with pytest.raises(ValueError, match=r"one multi-channel clip \(samples, channels\)"):
        load_waveforms(clip, sample_rate=8000)
    assert load_waveforms([clip], sample_rate=8000)[0][0].shape == (4000,)  # wrapped: mono
    assert len(load_waveforms(np.zeros((3, 4000)), sample_rate=8000)[0]) == 3  # clips per row
    with pytest.raises(ValueError, match="Entry 1 is a path but not a .wav file.*'b.flac'"):
        load_waveforms([np.zeros(100), "b.flac"], sample_rate=8000)
