"""Speech task on synthesized audio: WAV paths, folders, waveforms; classify and transcribe."""

from __future__ import annotations

import os

import keras
import numpy as np
import pandas as pd
import pytest
from scipy.io import wavfile
from sklearn.base import clone

from toolkit import Task
from toolkit.cli import main

RATE = 8000
TONES = {"low": 300.0, "mid": 900.0, "high": 2200.0}
FAST = {"sample_rate": RATE, "spec_augment": True, "epochs": 8, "batch_size": 16,
        "learning_rate": 3e-3, "validation_split": 0.0, "verbose": 0, "seed": 0}


def _clip(rng, freq, seconds=None):
    """A tone with random length, loudness, pitch jitter and noise (a stand-in for a word)."""
    seconds = rng.uniform(0.25, 0.45) if seconds is None else seconds
    t = np.arange(int(seconds * RATE)) / RATE
    tone = np.sin(2 * np.pi * freq * rng.uniform(0.95, 1.05) * t) * np.hanning(len(t))
    return (rng.uniform(0.05, 0.9) * tone + 0.01 * rng.standard_normal(len(t))).astype("float32")


def _write(path, waveform, rate=RATE):
    wavfile.write(path, rate, (np.clip(waveform, -1, 1) * 32767).astype("int16"))
    return str(path)


@pytest.fixture(scope="module")
def tone_files(tmp_path_factory):
    """72 WAV files of three tone classes, in class-per-subfolder layout."""
    root = tmp_path_factory.mktemp("tones")
    rng = np.random.default_rng(0)
    paths, labels = [], []
    for i in range(72):
        label = list(TONES)[i % 3]
        (root / label).mkdir(exist_ok=True)
        paths.append(_write(root / label / f"{i}.wav", _clip(rng, TONES[label])))
        labels.append(label)
    return root, paths, np.array(labels)


@pytest.fixture(scope="module")
def fitted(tone_files):
    _, paths, labels = tone_files
    return Task("speech", **FAST).fit(paths, labels)


def test_classifies_wav_paths_and_reports(fitted, tone_files):
    _, paths, labels = tone_files
    assert fitted.sample_rate_ == RATE
    assert fitted.num_samples_ == int(0.5 * RATE)   # 99th percentile, rounded up to 0.1 s
    report = fitted.evaluate(paths, labels)
    assert report.metrics["accuracy"] > 0.9
    assert fitted.score(paths, labels) == pytest.approx(report.metrics["accuracy"])
    assert "confusion_matrix" in report.figures()
    assert fitted.predict_proba(paths[:3]).shape == (3, 3)


def test_save_load_round_trip_predicts_from_wav_paths(fitted, tone_files, tmp_path):
    _, paths, _ = tone_files
    fitted.save(tmp_path / "model")
    loaded = Task.load(tmp_path / "model")   # safe mode: every feature layer is serializable
    np.testing.assert_array_equal(loaded.predict(paths[:12]), fitted.predict(paths[:12]))
    np.testing.assert_allclose(loaded.predict_proba(paths[:12]), fitted.predict_proba(paths[:12]),
                               atol=1e-5)
    names = [layer.name for layer in loaded.model_.layers]
    expected = {"peak_normalization", "log_mel", "utterance_normalization", "spec_augment"}
    assert expected <= set(names)


def test_spec_augment_is_off_at_inference(fitted, tone_files):
    _, paths, _ = tone_files
    first, second = fitted.predict_proba(paths[:8]), fitted.predict_proba(paths[:8])
    np.testing.assert_array_equal(first, second)
    layer = fitted.model_.get_layer("spec_augment")
    features = np.ones((2, 30, 40), dtype="float32")
    np.testing.assert_array_equal(np.asarray(layer(features)), features)
    assert (np.asarray(layer(features, training=True)) == 0).any()


def test_other_rates_and_arrays_and_folders(fitted, tone_files, tmp_path):
    root, paths, labels = tone_files
    rng = np.random.default_rng(5)
    # A 16 kHz file is resampled to the model's 8 kHz; a stereo file is mixed down.
    t = np.arange(int(0.4 * 16000)) / 16000
    high = 0.5 * np.sin(2 * np.pi * TONES["high"] * t) * np.hanning(len(t))
    wide = _write(tmp_path / "high16k.wav", high, rate=16000)
    stereo = np.stack([_clip(rng, TONES["low"], 0.4)] * 2, axis=1)
    two = _write(tmp_path / "stereo.wav", stereo)
    assert fitted.predict([wide, two]).tolist() == ["high", "low"]
    assert fitted.predict(two).tolist() == ["low"]   # one path on its own, as the CLI passes it
    # Waveform arrays at the model's rate; a class-per-subfolder folder carries labels.
    waves = [_clip(rng, TONES[label], 0.3) for label in ("mid", "high")]
    assert fitted.predict(waves).tolist() == ["mid", "high"]
    assert fitted.score(str(root)) > 0.9


def test_a_table_of_clips_from_python_and_the_cli(fitted, tone_files, tmp_path, capsys):
    root, paths, labels = tone_files
    relative = [os.path.relpath(path, tmp_path) for path in paths]   # to the table's folder
    pd.DataFrame({"path": relative, "label": labels}).to_csv(tmp_path / "clips.csv", index=False)
    np.testing.assert_array_equal(fitted.predict(str(tmp_path / "clips.csv")),
                                  fitted.predict(paths))
    assert fitted.score(str(tmp_path / "clips.csv")) == fitted.score(paths, labels)
    # A manifest as speech datasets ship them: tab-separated, labels in a named column.
    pd.DataFrame({"speaker": "s1", "audio": relative, "tone": labels, "extra": 0}).to_csv(
        tmp_path / "clips.tsv", sep="\t", index=False)
    assert main(["fit", "speech", "--data", str(tmp_path / "clips.tsv"), "--label-column", "tone",
                 "--epochs", "1", "--verbose", "0", "--param", f"sample_rate={RATE}",
                 "--out", str(tmp_path / "model")]) == 0
    assert Task.load(tmp_path / "model").classes_.tolist() == sorted(TONES)


def test_bad_files_give_clear_errors(fitted, tmp_path):
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF0000WAVEjunkjunk")
    empty = tmp_path / "empty.wav"
    wavfile.write(empty, RATE, np.zeros(0, dtype="int16"))
    with pytest.raises(ValueError, match="corrupt.wav"):
        fitted.predict([str(corrupt)])
    with pytest.raises(ValueError, match="empty.wav"):
        fitted.predict([str(empty)])
    with pytest.raises(ValueError, match="nowhere.wav"):
        fitted.predict([str(tmp_path / "nowhere.wav")])


def test_bad_waveforms_and_labels_are_named(fitted, tone_files):
    clip = np.zeros(2000, dtype="float32")
    for X, error, match in [([np.zeros((2, 2000))], ValueError, r"waveform\.T"),
                            ([clip.astype("complex64")], TypeError, "not numeric"),
                            (clip, ValueError, "wrap a single clip"),
                            ([], ValueError, "No examples")]:
        with pytest.raises(error, match=match):
            fitted.predict(X)
    _, paths, labels = tone_files
    with pytest.raises(ValueError, match="missing"):
        Task("speech", **FAST).fit(paths[:4], ["low", np.nan, "mid", "high"])


def test_bad_parameters_name_the_argument(tone_files):
    _, paths, labels = tone_files
    for params, name in [({"mode": "translate"}, "mode"), ({"backbone": "resnet"}, "backbone"),
                         ({"features": "cqt"}, "features"), ({"decoder": "viterbi"}, "decoder"),
                         ({"duration": -1}, "duration"), ({"duration": "1s"}, "duration"),
                         ({"spec_augment": "yes"}, "spec_augment"),
                         ({"beam_width": 0}, "beam_width"), ({"dropout": 1.5}, "dropout"),
                         ({"normalize": "yes"}, "normalize must be True or False")]:
        with pytest.raises(ValueError, match=name):
            Task("speech", **{**FAST, **params}).fit(paths[:6], labels[:6])
    with pytest.raises(ValueError, match="sample_rate"):
        Task("speech", epochs=1).fit([np.zeros(800)] * 4, ["a", "b"] * 2)
    # Sizes the backbone's pooling would shrink below one step (Keras would fail deep inside).
    for params, match in [({"duration": 0.05}, r"duration=0.05 s is too short .* 'cnn'.* >= 0.102 s"),
                          ({"backbone": "crnn", "duration": 0.05}, "at least 4 spectrogram frames"),
                          ({"num_mel_bins": 4}, "num_mel_bins must be at least 8"),
                          ({"features": "mfcc", "num_mfcc": 5}, "num_mfcc must be at least 8")]:
        with pytest.raises(ValueError, match=match):
            Task("speech", **{**FAST, **params}).fit(paths[:6], labels[:6])
    assert clone(Task("speech", mode="transcribe")).get_params()["mode"] == "transcribe"


def test_automatic_duration_pads_very_short_clips_to_what_the_backbone_needs():
    rng = np.random.default_rng(3)
    clips = [rng.standard_normal(300).astype("float32") for _ in range(6)]   # 37 ms each
    task = Task("speech", **{**FAST, "epochs": 1}).fit(clips, ["a", "b"] * 3)
    assert task.num_samples_ == 256 + 7 * 80   # one 32 ms window plus 7 hops: 8 frames
    assert task.predict(clips[:2]).shape == (2,)


def test_new_label_set_reuses_features_and_backbone(fitted, tmp_path):
    task = Task.load(fitted.save(tmp_path / "copy"))   # leaves the shared fixture alone
    before = task.model_.get_layer("cnn").get_layer("block1_conv").get_weights()[0].copy()
    rng = np.random.default_rng(7)
    new_labels = np.array(["buzz", "hum"] * 12)
    new_clips = [_clip(rng, 2600.0 if label == "buzz" else 250.0, 0.4) for label in new_labels]
    task.fine_tune(new_clips, new_labels, new_labels=True, epochs=4, learning_rate=1e-2)
    assert task.classes_.tolist() == ["buzz", "hum"]
    after = task.model_.get_layer("cnn").get_layer("block1_conv").get_weights()[0]
    np.testing.assert_array_equal(after, before)   # the gradual schedule kept the bottom frozen
    assert task.score(new_clips, new_labels) > 0.8
    assert len(task.history_["loss"]) == FAST["epochs"] + 4   # 2 head-only + 2 unfrozen


@pytest.fixture(scope="module")
def tone_sentences():
    """Utterances of 2-3 'words' (tones) separated by silence, with their transcripts."""
    rng = np.random.default_rng(1)
    waves, texts = [], []
    for _ in range(32):
        words = list(rng.choice(["low", "high"], size=rng.integers(2, 4)))
        pieces = [np.zeros(int(rng.uniform(0.05, 0.15) * RATE), "float32")]
        for word in words:
            pieces += [_clip(rng, TONES[word], 0.2), np.zeros(int(0.1 * RATE), "float32")]
        waves.append(np.concatenate(pieces))
        texts.append(" ".join(words))
    return waves, texts


def test_a_transcriber_pads_clips_shorter_than_its_backbone_needs(tone_sentences):
    waves, texts = tone_sentences
    task = Task("speech", mode="transcribe", backbone="crnn", vocabulary=["low", "high"],
                **{**FAST, "epochs": 1}).fit(waves[:16], texts[:16])
    short = [waves[0][:5], waves[0][:400]]  # Keras failed: negative dimension in pooling
    assert len(task.predict(short)) == 2
    assert 0 <= task.evaluate(short, ["low", "high"]).metrics["cer"] <= 1


def test_a_fixed_duration_never_cuts_a_transcribed_clip(tone_sentences):
    waves, texts = tone_sentences
    task = Task("speech", mode="transcribe", backbone="crnn", vocabulary=["low", "high"],
                duration=0.3, **{**FAST, "epochs": 1})
    with pytest.raises(ValueError, match="A clip transcribed '.*' lasts .* longer than "
                                         "duration=0.30 s"):
        task.fit(waves[:8], texts[:8])


def test_transcribe_mode_ctc_save_load_and_error_rates(tone_sentences, tmp_path):
    waves, texts = tone_sentences
    task = Task("speech", mode="transcribe", backbone="cnn", vocabulary=["low", "high"],
                **{**FAST, "epochs": 2})
    task.fit(waves, texts)
    assert task.token_level_ == "word" and task.num_samples_ is None
    assert isinstance(task.model_.get_layer("log_probabilities"), keras.layers.Layer)
    predictions = task.predict(waves[:8])
    assert len(predictions) == 8 and all(set(p.split()) <= {"low", "high"} for p in predictions)
    report = task.evaluate(waves, texts)
    assert set(report.metrics) >= {"cer", "wer", "exact_match"}
    assert task.score(waves, texts) == pytest.approx(1 - report.metrics["wer"])
    task.save(tmp_path / "asr")
    loaded = Task.load(tmp_path / "asr")
    assert loaded.predict(waves[:8]) == predictions
    beam = loaded.set_params(decoder="beam").predict(waves[:8])
    assert len(beam) == 8 and all(set(p.split()) <= {"low", "high"} for p in beam)
    # Transcripts from a manifest's named column, laid out as Common Voice's.
    files = [_write(tmp_path / f"u{index}.wav", wave) for index, wave in enumerate(waves[:8])]
    pd.DataFrame({"path": [os.path.basename(f) for f in files], "sentence": texts[:8],
                  "up_votes": 2}).to_csv(tmp_path / "utterances.tsv", sep="\t", index=False)
    loaded.set_params(label_column="sentence")
    assert (loaded.evaluate(str(tmp_path / "utterances.tsv")).metrics
            == loaded.evaluate(files, texts[:8]).metrics)
    with pytest.raises(ValueError, match="predict_proba"):
        task.predict_proba(waves[:1])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        task.fine_tune(waves[:4], ["low bass"] * 4)
