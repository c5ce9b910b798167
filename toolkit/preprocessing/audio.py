"""Audio preprocessing: decoding, mono mix-down, resampling, padding, and the feature layers.

Everything that must travel with a trained model (peak normalisation, log-mel, MFCC,
per-utterance normalisation, SpecAugment) is a serializable Keras layer, so a saved
speech model takes raw waveforms and ``Task.load(dir).predict(["clip.wav"])`` works.
Decoding and resampling happen before the model, in NumPy/SciPy.
"""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np
from keras import ops
from scipy import signal
from scipy.io import wavfile

from toolkit.backbones.registry import serializable

#: Log floor added to mel power, so silence (and zero padding) stays finite.
LOG_FLOOR = 1e-6


# ----------------------------------------------------------------- decoding


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Decode a WAV file into a float32 mono waveform in [-1, 1] and its sample rate.

    Integer PCM is scaled by its full range; several channels are averaged.

    Raises
    ------
    ValueError
        If the file is missing, not a WAV file, corrupt or holds no samples; the
        message names the file.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from scipy.io import wavfile
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> wavfile.write(path, 8000, (np.sin(np.arange(800) / 5) * 10000).astype("int16"))
    >>> waveform, rate = read_wav(path)
    >>> waveform.shape, rate
    ((800,), 8000)
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Audio file not found. Received: path={str(path)!r}")
    try:
        rate, data = wavfile.read(path)
    except Exception as error:  # noqa: BLE001  scipy raises odd types on broken headers
        raise ValueError(
            f"Could not decode {str(path)!r} as a WAV file: {str(error).splitlines()[0] or error!r}"
        ) from error
    if data.size == 0:
        raise ValueError(f"Audio file {str(path)!r} holds no samples (empty recording).")
    return to_mono(pcm_to_float(data)), int(rate)


def pcm_to_float(data: np.ndarray) -> np.ndarray:
    """Samples as float32, integer PCM (WAV's 8-bit unsigned, 16- and 32-bit signed)
    scaled to [-1, 1] by its full range; other types keep their values.

    Examples
    --------
    >>> pcm_to_float(np.array([-32768, 0, 16384], dtype="int16")).tolist()
    [-1.0, 0.0, 0.5]
    >>> pcm_to_float(np.array([0, 128, 255], dtype="uint8")).tolist()
    [-1.0, 0.0, 0.9921875]
    """
    if data.dtype == np.uint8:  # 8-bit WAV is unsigned
        return ((data.astype("float32") - 128.0) / 128.0)
    if data.dtype in (np.int16, np.int32):
        return data.astype("float32") / float(-np.iinfo(data.dtype).min)
    return data.astype("float32")


def to_mono(waveform: np.ndarray) -> np.ndarray:
    """Average the channels of a ``(samples, channels)`` waveform; 1-D passes through."""
    waveform = np.asarray(waveform, dtype="float32")
    if waveform.ndim == 2:
        if waveform.shape[1] > waveform.shape[0]:
            raise ValueError(
                "A 2-D waveform must be (samples, channels), with more samples than "
                f"channels; this one looks like (channels, samples): pass its transpose "
                f"(waveform.T). Received: shape={waveform.shape}"
            )
        return waveform.mean(axis=1)
    if waveform.ndim != 1:
        raise ValueError(
            "A waveform must be 1-D (samples,) or 2-D (samples, channels). "
            f"Received: shape={waveform.shape}"
        )
    return waveform


def resample(waveform: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    """Resample with SciPy's polyphase filter (``scipy.signal.resample_poly``).

    Examples
    --------
    >>> resample(np.zeros(8000, dtype="float32"), 8000, 16000).shape
    (16000,)
    """
    if int(rate) == int(target_rate):
        return np.asarray(waveform, dtype="float32")
    divisor = math.gcd(int(rate), int(target_rate))
    return signal.resample_poly(waveform, int(target_rate) // divisor,
                                int(rate) // divisor).astype("float32")


def pad_or_crop(waveforms: list[np.ndarray], length: int) -> np.ndarray:
    """Stack waveforms into ``(n, length)``: shorter ones end in zeros, longer ones are cut.

    Examples
    --------
    >>> pad_or_crop([np.ones(3), np.ones(6)], 4)
    array([[1., 1., 1., 0.],
           [1., 1., 1., 1.]], dtype=float32)
    """
    batch = np.zeros((len(waveforms), int(length)), dtype="float32")
    for row, waveform in enumerate(waveforms):
        n = min(len(waveform), int(length))
        batch[row, :n] = waveform[:n]
    return batch


def frame_count(samples: int, fft_length: int, frame_step: int) -> int:
    """Frames :class:`LogMelSpectrogram` makes of ``samples`` samples (no centring)."""
    return max(0, 1 + (int(samples) - fft_length) // frame_step)


# ------------------------------------------------------------ filterbanks


def hz_to_mel(hz):
    """HTK mel scale: ``2595 * log10(1 + hz / 700)``."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype="float64") / 700.0)


def mel_to_hz(mel):
    return 700.0 * (10.0 ** (np.asarray(mel, dtype="float64") / 2595.0) - 1.0)


def mel_filterbank(num_mel_bins: int, fft_length: int, sample_rate: int,
                   low_hz: float = 20.0, high_hz: float | None = None) -> np.ndarray:
    """Triangular mel filters ``(fft_length // 2 + 1, num_mel_bins)`` (HTK scale, peak 1).

    Examples
    --------
    >>> mel_filterbank(40, 256, 8000).shape
    (129, 40)
    """
    high_hz = sample_rate / 2 if high_hz is None else high_hz
    bins_hz = np.linspace(0, sample_rate / 2, fft_length // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(low_hz), hz_to_mel(high_hz), num_mel_bins + 2))
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bins_hz[:, None] - lower) / (center - lower)
    falling = (upper - bins_hz[:, None]) / (upper - center)
    return np.maximum(0.0, np.minimum(rising, falling)).astype("float32")


def dct_matrix(num_inputs: int, num_outputs: int) -> np.ndarray:
    """Orthonormal DCT-II as a ``(num_inputs, num_outputs)`` matrix (as ``scipy.fft.dct``)."""
    n = np.arange(num_inputs)[:, None]
    k = np.arange(num_outputs)[None, :]
    matrix = np.cos(np.pi * k * (2 * n + 1) / (2 * num_inputs)) * np.sqrt(2.0 / num_inputs)
    matrix[:, 0] /= np.sqrt(2.0)
    return matrix.astype("float32")


# ---------------------------------------------------------- feature layers


@serializable
class PeakNormalization(keras.layers.Layer):
    """Scale each waveform so its largest absolute sample is 1 (silence stays silence).

    Recordings differ in loudness by an order of magnitude between speakers; without
    this a model learns loudness as a speaker cue and fails on new speakers.
    """

    def call(self, waveforms):
        peak = ops.max(ops.abs(waveforms), axis=-1, keepdims=True)
        return waveforms / ops.maximum(peak, 1e-4)


@serializable
class LogMelSpectrogram(keras.layers.Layer):
    """Waveforms ``(batch, samples)`` -> log-mel power ``(batch, frames, num_mel_bins)``.

    Frames of ``fft_length`` samples every ``frame_step`` (no centring, so ``frames =
    1 + (samples - fft_length) // frame_step``), each weighted by a periodic Hann
    window of ``frame_length`` samples zero-padded to the middle of the frame (as
    ``keras.ops.stft`` does), power spectrum, HTK triangular mel filters, then
    ``log(mel power + 1e-6)``.

    Examples
    --------
    >>> layer = LogMelSpectrogram(sample_rate=8000, frame_length=200, frame_step=80,
    ...                           fft_length=256, num_mel_bins=40)
    >>> tuple(layer(np.zeros((2, 8000), dtype="float32")).shape)
    (2, 97, 40)
    """

    def __init__(self, sample_rate: int, frame_length: int, frame_step: int, fft_length: int,
                 num_mel_bins: int = 40, low_hz: float = 20.0, **kwargs):
        super().__init__(**kwargs)
        self.sample_rate = int(sample_rate)
        self.frame_length = int(frame_length)
        self.frame_step = int(frame_step)
        self.fft_length = int(fft_length)
        self.num_mel_bins = int(num_mel_bins)
        self.low_hz = float(low_hz)
        self._filters = mel_filterbank(self.num_mel_bins, self.fft_length, self.sample_rate,
                                       self.low_hz)

    def call(self, waveforms):
        waveforms = ops.cast(waveforms, "float32")
        real, imag = ops.stft(waveforms, self.frame_length, self.frame_step, self.fft_length,
                              window="hann", center=False)
        power = real * real + imag * imag
        mel = ops.matmul(power, ops.convert_to_tensor(self._filters))
        return ops.log(mel + LOG_FLOOR)

    def compute_output_shape(self, input_shape):
        samples = input_shape[-1]
        frames = None if samples is None else frame_count(samples, self.fft_length,
                                                          self.frame_step)
        return (input_shape[0], frames, self.num_mel_bins)

    def get_config(self):
        return {**super().get_config(), "sample_rate": self.sample_rate,
                "frame_length": self.frame_length, "frame_step": self.frame_step,
                "fft_length": self.fft_length, "num_mel_bins": self.num_mel_bins,
                "low_hz": self.low_hz}


@serializable
class MFCC(keras.layers.Layer):
    """Log-mel ``(batch, frames, bins)`` -> the first ``num_coefficients`` orthonormal
    DCT-II coefficients ``(batch, frames, num_coefficients)`` (as ``scipy.fft.dct``)."""

    def __init__(self, num_coefficients: int = 13, **kwargs):
        super().__init__(**kwargs)
        self.num_coefficients = int(num_coefficients)

    def build(self, input_shape):
        bins = int(input_shape[-1])
        if self.num_coefficients > bins:
            raise ValueError(f"num_coefficients must be at most the number of mel bins ({bins}). "
                             f"Received: num_coefficients={self.num_coefficients}")
        self._dct = dct_matrix(bins, self.num_coefficients)

    def call(self, log_mel):
        return ops.matmul(log_mel, ops.convert_to_tensor(self._dct))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.num_coefficients)

    def get_config(self):
        return {**super().get_config(), "num_coefficients": self.num_coefficients}


@serializable
class UtteranceNormalization(keras.layers.Layer):
    """Per-utterance mean/variance normalisation of log-mel features.

    One mean and one standard deviation per utterance, over all its time-frequency
    cells, so the spectral shape (which bands hold the energy) is kept; per-bin
    normalisation over time would flatten it, and short clips (a spoken word) have too
    few frames for per-bin statistics anyway. The statistics come from the frames that
    hold sound: frames of digital silence (every bin at the ``log(1e-6)`` floor: zero
    padding, or silence inserted between words) are left out, so how much padding a
    batch carries does not change the result. An utterance that is digital silence
    throughout becomes all zeros: no evidence for any class (its statistics would
    otherwise blow the floor up to about -14,000).
    """

    def call(self, features):
        floor = float(np.log(LOG_FLOOR)) + 1e-3
        active = ops.cast(ops.max(features, axis=-1, keepdims=True) > floor, features.dtype)
        active = ops.broadcast_to(active, ops.shape(features))
        sounding = ops.sum(active, axis=(1, 2), keepdims=True)
        count = ops.maximum(sounding, 1.0)
        mean = ops.sum(features * active, axis=(1, 2), keepdims=True) / count
        variance = ops.sum(ops.square(features - mean) * active, axis=(1, 2),
                           keepdims=True) / count
        normalised = (features - mean) / (ops.sqrt(variance) + 1e-3)
        return ops.where(sounding > 0, normalised, ops.zeros_like(normalised))


@serializable
class SpecAugment(keras.layers.Layer):
    """Time and frequency masking (Park et al., 2019), active only when ``training``.

    Each utterance gets ``frequency_masks`` bands of up to ``frequency_width`` bins and
    ``time_masks`` spans of up to ``time_width`` frames set to zero (the mean, after
    :class:`UtteranceNormalization`). At inference the layer is the identity.

    Examples
    --------
    >>> layer = SpecAugment(seed=0)
    >>> x = np.ones((1, 50, 20), dtype="float32")
    >>> bool((np.asarray(layer(x, training=False)) == x).all())
    True
    """

    def __init__(self, frequency_masks: int = 2, frequency_width: int = 6, time_masks: int = 2,
                 time_width: int = 8, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.frequency_masks = int(frequency_masks)
        self.frequency_width = int(frequency_width)
        self.time_masks = int(time_masks)
        self.time_width = int(time_width)
        self.seed = seed
        self._generator = keras.random.SeedGenerator(seed)

    def call(self, features, training=None):
        if not training:
            return features
        shape = ops.shape(features)
        batch, frames, bins = shape[0], shape[1], shape[2]
        keep = ops.ones_like(features)
        for axis_size, count, width, axis in ((bins, self.frequency_masks, self.frequency_width, 2),
                                              (frames, self.time_masks, self.time_width, 1)):
            positions = ops.arange(axis_size)[None, :]
            for _ in range(count):
                size = keras.random.randint((batch, 1), 0, width + 1, seed=self._generator)
                room = ops.cast(ops.maximum(axis_size - size, 1), "float32")
                start = ops.cast(keras.random.uniform((batch, 1), seed=self._generator) * room,
                                 "int32")
                masked = ops.logical_and(positions >= start, positions < start + size)
                masked = ops.expand_dims(masked, axis=3 - axis)
                keep = keep * (1.0 - ops.cast(masked, features.dtype))
        return features * keep

    def get_config(self):
        return {**super().get_config(), "frequency_masks": self.frequency_masks,
                "frequency_width": self.frequency_width, "time_masks": self.time_masks,
                "time_width": self.time_width, "seed": self.seed}


__all__ = ["LogMelSpectrogram", "MFCC", "PeakNormalization", "SpecAugment",
           "UtteranceNormalization", "dct_matrix", "frame_count", "mel_filterbank",
           "pad_or_crop", "pcm_to_float", "read_wav", "resample", "to_mono"]
