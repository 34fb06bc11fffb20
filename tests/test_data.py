"""Dataset readers on layouts generated here, and on the real starter set."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from soundpred.data import read_esc50, read_folders, read_fsdkaggle2018

from .conftest import STARTER, needs_starter


def _wav(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(1600, np.int16), 16000)


def test_kaggle_layout(tmp_path):
    (tmp_path / "train.csv").write_text("fname,label,manually_verified\na.wav,Bark,1\nb.wav,Meow,0\n")
    (tmp_path / "test_post_competition.csv").write_text(
        "fname,label,usage,freesound_id,license\nc.wav,Bark,Public,1,CC0\nd.wav,Meow,Ignored,2,CC0\n")
    for f in ("audio_train/a.wav", "audio_train/b.wav", "audio_test/c.wav", "audio_test/d.wav"):
        _wav(tmp_path / f)
    train = read_fsdkaggle2018(tmp_path, "train")
    assert [(c.path.name, c.label, c.verified) for c in train] == [("a.wav", "Bark", True), ("b.wav", "Meow", False)]
    assert [c.path.name for c in read_fsdkaggle2018(tmp_path, "train", verified_only=True)] == ["a.wav"]
    test = read_fsdkaggle2018(tmp_path, "test")
    assert [(c.path.name, c.split) for c in test] == [("c.wav", "test")]  # "Ignored" padding rows skipped


def test_zenodo_layout(tmp_path):
    meta = tmp_path / "FSDKaggle2018.meta"
    meta.mkdir()
    (meta / "train_post_competition.csv").write_text(
        "fname,label,manually_verified,freesound_id,license\n00044347.wav,Hi-hat,0,28739,Attribution\n")
    (meta / "test_post_competition_scoring_clips.csv").write_text(
        "fname,label,usage,freesound_id,license\n0012c895.wav,Knock,Public,1,CC0\n")
    _wav(tmp_path / "FSDKaggle2018.audio_train/00044347.wav")
    _wav(tmp_path / "FSDKaggle2018.audio_test/0012c895.wav")
    assert [(c.label, c.verified) for c in read_fsdkaggle2018(tmp_path)] == [("Hi-hat", False)]
    assert [c.label for c in read_fsdkaggle2018(tmp_path, "test")] == ["Knock"]


def test_flac_for_wav_names(tmp_path):
    (tmp_path / "train.csv").write_text("fname,label,manually_verified\na.wav,Bark,1\n")
    (tmp_path / "audio_train").mkdir()
    sf.write(tmp_path / "audio_train/a.flac", np.zeros(1600, np.int16), 16000)
    assert read_fsdkaggle2018(tmp_path)[0].path.suffix == ".flac"


def test_missing_audio_and_unknown_label(tmp_path):
    (tmp_path / "train.csv").write_text("fname,label,manually_verified\na.wav,Bark,1\n")
    with pytest.raises(FileNotFoundError, match="missing"):
        read_fsdkaggle2018(tmp_path)
    (tmp_path / "train.csv").write_text("fname,label,manually_verified\na.wav,Dragon,1\n")
    with pytest.raises(ValueError, match="unknown label"):
        read_fsdkaggle2018(tmp_path)


def test_not_a_dataset(tmp_path):
    with pytest.raises(FileNotFoundError, match="Kaggle layout"):
        read_fsdkaggle2018(tmp_path)


def test_esc50_folds(tmp_path):
    (tmp_path / "meta").mkdir()
    rows = ["filename,fold,target,category,esc10,src_file,take"]
    for i in range(10):
        rows.append(f"{i + 1}-100-A-0.wav,{i % 5 + 1},0,dog,True,100,A")
        _wav(tmp_path / "audio" / f"{i + 1}-100-A-0.wav")
    (tmp_path / "meta/esc50.csv").write_text("\n".join(rows) + "\n")
    clips = read_esc50(tmp_path, test_fold=2)
    assert len(clips) == 10
    assert sorted(c.fold for c in clips if c.split == "test") == [2, 2]
    with pytest.raises(ValueError):
        read_esc50(tmp_path, test_fold=6)


def test_folders(tmp_path):
    _wav(tmp_path / "Cello" / "a.wav")
    _wav(tmp_path / "Cello" / "sub" / "b.wav")
    _wav(tmp_path / "Flute" / "c.wav")
    (tmp_path / "Flute" / "notes.txt").write_text("x")
    clips = read_folders(tmp_path, origin="mine")
    assert [(c.label, c.path.name, c.origin) for c in clips] == [
        ("Cello", "a.wav", "mine"), ("Cello", "b.wav", "mine"), ("Flute", "c.wav", "mine")]


@needs_starter
def test_real_starter_set():
    train, test = read_fsdkaggle2018(STARTER), read_fsdkaggle2018(STARTER, "test")
    assert len(train) == 677 and len(test) == 140
    assert len({c.label for c in train}) == 20
    assert all(c.path.exists() for c in train[:20])
