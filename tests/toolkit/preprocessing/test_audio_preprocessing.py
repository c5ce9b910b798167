"""Audio decoding, resampling, padding, and the feature layers against NumPy/SciPy references."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft
from scipy import signal
from scipy.io import wavfile

from toolkit.preprocessing.audio import (
    MFCC,
    LOG_FLOOR,
    LogMelSpectrogram,
    PeakNormalization,
    SpecAugment,
    UtteranceNormalization,
    mel_filterbank,
    pad_or_crop,
    read_wav,
    resample,
)

RATE = 8000


def _tone(freq, seconds=0.5, rate=RATE, amplitude=0.5):
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype("float32")


def _reference_log_mel(waveform, rate, frame_length, step, fft_length, bins):
    """NumPy/SciPy: frames, centred periodic Hann, rfft power, mel filters, log."""
    window = signal.get_window("hann", frame_length, fftbins=True)
    left = (fft_length - frame_length) // 2
    padded = np.zeros(fft_length)
    padded[left:left + frame_length] = window
    frames = np.lib.stride_tricks.sliding_window_view(waveform, fft_length)[::step]
    power = np.abs(np.fft.rfft(frames * padded, n=fft_length)) ** 2
    return np.log(power @ mel_filterbank(bins, fft_length, rate) + LOG_FLOOR)


def test_log_mel_matches_numpy_reference():
    rng = np.random.default_rng(0)
    waveform = _tone(440) + 0.05 * rng.standard_normal(4000).astype("float32")
    layer = LogMelSpectrogram(RATE, frame_length=200, frame_step=80, fft_length=256,
                              num_mel_bins=40)
    got = np.asarray(layer(waveform[None]))[0]
    expected = _reference_log_mel(waveform, RATE, 200, 80, 256, 40)
    assert got.shape == expected.shape == (1 + (4000 - 256) // 80, 40)
    np.testing.assert_allclose(got, expected, atol=2e-3, rtol=1e-3)
    # A 440 Hz tone puts its energy in the mel band around 440 Hz.
    centers = np.argmax(mel_filterbank(40, 256, RATE), axis=0) * RATE / 256
    assert abs(centers[np.argmax(got.mean(axis=0))] - 440) < 100


def test_mel_filterbank_triangles_peak_in_order():
    filters = mel_filterbank(20, 512, 16000)
    assert filters.shape == (257, 20)
    assert np.all(filters >= 0) and np.all(filters.max(axis=0) > 0.5)
    assert np.all(np.diff(np.argmax(filters, axis=0)) >= 0)


def test_mfcc_matches_scipy_dct():
    log_mel = np.random.default_rng(1).standard_normal((2, 7, 40)).astype("float32")
    got = np.asarray(MFCC(13)(log_mel))
    expected = scipy.fft.dct(log_mel, type=2, norm="ortho", axis=-1)[..., :13]
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_utterance_normalization_ignores_padding():
    rng = np.random.default_rng(2)
    features = rng.normal(3.0, 2.0, (1, 30, 8)).astype("float32")
    silence = np.full((1, 20, 8), np.log(LOG_FLOOR), dtype="float32")
    alone = np.asarray(UtteranceNormalization()(features))
    padded = np.asarray(UtteranceNormalization()(np.concatenate([features, silence], axis=1)))
    np.testing.assert_allclose(alone.mean(), 0, atol=1e-4)
    np.testing.assert_allclose(alone.std(), 1, atol=1e-2)
    # One scale for the whole utterance: the spectral shape survives.
    expected = (features - features.mean()) / (features.std() + 1e-3)
    np.testing.assert_allclose(alone, expected, atol=1e-3)
    np.testing.assert_allclose(padded[:, :30], alone, atol=1e-4)
    # An utterance of silence alone carries no evidence: zeros, not the floor blown up.
    both = np.asarray(UtteranceNormalization()(np.concatenate([silence[:, :15], features[:, :15]])))
    np.testing.assert_array_equal(both[0], 0)
    np.testing.assert_allclose(both[1].mean(), 0, atol=1e-4)


def test_peak_normalization_makes_loudness_irrelevant():
    quiet, loud = _tone(300, amplitude=0.01), _tone(300, amplitude=0.8)
    out = np.asarray(PeakNormalization()(np.stack([quiet, loud])))
    np.testing.assert_allclose(out[0], out[1], atol=1e-4)
    assert np.abs(out).max() == pytest.approx(1.0, abs=1e-3)


def test_spec_augment_only_in_training():
    layer = SpecAugment(frequency_masks=2, frequency_width=5, time_masks=2, time_width=10, seed=0)
    x = np.ones((4, 60, 40), dtype="float32")
    np.testing.assert_array_equal(np.asarray(layer(x)), x)            # default: inference
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    masked = np.asarray(layer(x, training=True))
    assert masked.shape == x.shape and (masked == 0).any() and (masked == 1).any()
    zero_bins = (masked == 0).all(axis=1).sum(axis=1)   # fully masked frequency bins
    assert zero_bins.max() <= 2 * 5
    config = SpecAugment.from_config(layer.get_config()).get_config()
    assert config["time_width"] == 10 and config["seed"] == 0


def test_read_wav_scales_mixes_down_and_names_bad_files(tmp_path):
    stereo = np.stack([np.full(100, 16384), np.zeros(100)], axis=1).astype("int16")
    wavfile.write(tmp_path / "stereo.wav", RATE, stereo)
    waveform, rate = read_wav(tmp_path / "stereo.wav")
    assert rate == RATE and waveform.shape == (100,) and waveform.dtype == np.float32
    np.testing.assert_allclose(waveform, 0.25)
    wavfile.write(tmp_path / "u8.wav", RATE, np.full(10, 255, dtype="uint8"))
    assert read_wav(tmp_path / "u8.wav")[0].max() == pytest.approx(127 / 128)

    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x00\x00not really audio")
    with pytest.raises(ValueError, match="corrupt.wav"):
        read_wav(tmp_path / "corrupt.wav")
    wavfile.write(tmp_path / "empty.wav", RATE, np.zeros(0, dtype="int16"))
    with pytest.raises(ValueError, match="empty.wav.*no samples"):
        read_wav(tmp_path / "empty.wav")
    with pytest.raises(ValueError, match="missing.wav"):
        read_wav(tmp_path / "missing.wav")


def test_resample_matches_scipy_polyphase_and_keeps_pitch():
    tone = _tone(500, seconds=1.0)
    up = resample(tone, 8000, 16000)
    np.testing.assert_allclose(up, signal.resample_poly(tone, 2, 1), atol=1e-6)
    spectrum = np.abs(np.fft.rfft(up))
    assert len(up) == 16000 and abs(np.argmax(spectrum) * 16000 / len(up) - 500) < 2
    assert len(resample(tone, 8000, 11025)) == 11025
    assert resample(tone, 8000, 8000) is not None


def test_pad_or_crop():
    batch = pad_or_crop([np.ones(3), np.arange(6)], 4)
    np.testing.assert_array_equal(batch, [[1, 1, 1, 0], [0, 1, 2, 3]])
