"""Model cards of classifier bundles (README.md with Hub metadata), rendered from the bundle's
own metadata: ``train.classifier``, ``train.open_set`` and ``train.retention`` all write
through :func:`write_card`, so the card always shows every stored result."""
from __future__ import annotations

SOURCE_LICENCES = {
    "fsdkaggle2018": "FSDKaggle2018 training clips (Freesound, per-clip Creative Commons incl. CC BY-NC), "
                     "DCASE2016 task 2 office sounds, a cat/dog and a glass-break set (research use)",
    "more-real:philharmonia": "Philharmonia Orchestra samples (CC BY-SA 3.0)",
    "more-real:urbansound8k": "UrbanSound8K gun shots (CC BY-NC 3.0)",
    "more-real:kitchen20": "Kitchen20 microwave ovens (Freesound clips, per-clip CC)",
    "more-real:jrhodes": "jRhodes3d electric piano samples (CC BY-NC 4.0)",
    "more-real:harmonica": "blues harmonica takes (no licence stated, research use)",
    "hydrogen-drumkits": "Debian hydrogen-drumkits acoustic kits (GPL / CC per kit)",
    "tonejs-instruments": "npm tonejs-instrument-* notes (CC-BY 3.0 samples)",
}
YAMNET_ATTRIBUTION = ("Contains YAMNet weights, Copyright Google, Apache-2.0 (tensorflow/models "
                      "`research/audioset/yamnet`), imported from its TFLite export by `python -m train.import_yamnet`.")


def _fmt(v):
    return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def _open_set_md(r: dict) -> str:
    kinds = ", ".join(f"{k} {v:.0%}" for k, v in r["outside_called_unknown_by_kind"].items())
    return (
        "\n## Open set (\"none of the labels\")\n"
        "Fitted by `python -m train.open_set` on validation clips of the labels and generated outside sounds "
        "(`train.outside_sounds`: espeak-ng speech, fluidsynth music on instruments that are no label, noise, "
        "room tone, synthetic engine and rain; speech and music also as a microphone 0.5–8 m away in a simulated "
        "room hears them, room_speech and room_music). Reported on other clips: "
        f"{r['inside_called_unknown']:.1%} of {r['inside_report']} called unknown; "
        f"{1 - r['outside_called_known']:.1%} of {r['n_outside']} outside sounds called unknown ({kinds}). "
        f"{r['n_compatible']} AudioSet classes count as compatible with the labels.\n")


def _retention_md(r: dict) -> str:
    """The labels without training clips: does the model still rank clips as YAMNet's AudioSet
    head does (``python -m train.retention --write``)?"""
    def top5(v):
        return "–" if v["top5"] is None else f"{v['top5']:.2f} of {v['n_present']}"

    rows = "\n".join(f"| {lab} | {v['rho']:.2f} | {r['reference'][lab]['rho']:.2f} | {top5(v)} |"
                     for lab, v in r["labels"].items())
    return f"""
## Labels without training clips: how much AudioSet knowledge they keep
`python -m train.retention`, over {r['n_clips']} clips no model trained on (starter test, more-real held
out, generated outside sounds). rho: Spearman rank correlation between this model's score for the label
and YAMNet's AudioSet score for its class; the zero-shot model (AudioSet rows under the same softmax)
is the reference. top-5: where YAMNet gives the class at least {r['present']}, how often the label is
among this model's five best.

| label | rho | rho, zero-shot | top-5 |
|---|---|---|---|
{rows}
"""


def write_card(meta: dict) -> str:
    """The model card (README.md of the bundle), from the bundle's own metadata."""
    m, tr = meta["metrics"], meta["training"]
    test, held = m.get("test", {}), m.get("more_real_held_out", {})
    yamnet = tr["arch"] == "yamnet"
    rows = "\n".join(f"| {name} | {_fmt(d.get('top1'))} | {_fmt(d.get('map3'))} | {_fmt(d.get('n_clips'))} |"
                     for name, d in ((f"test split of `{tr['data']}`", test), ("more-real, held-out recording groups", held))
                     if d)
    per_label = []
    no_clips = set(m.get("labels_without_clips", []))
    for lab in meta["labels"]:
        r1 = test.get("per_class_recall", {}).get(lab)
        r2 = held.get("per_class_recall", {}).get(lab) if held else None
        note = "AudioSet knowledge only (no training clip)" if lab in no_clips else \
            "data only (no AudioSet class)" if lab in m.get("labels_without_audioset_class", []) else ""
        per_label.append(f"| {lab} | {_fmt(r1)} | {_fmt(r2)} | {note} |")
    origins = "\n".join(f"- {k}: {v} clips — {SOURCE_LICENCES.get(k, 'see its source')}"
                        for k, v in sorted(tr["origins"].items()))
    open_md = _open_set_md(m["open_set"]) if "open_set" in m else ""
    open_md += _retention_md(m["retention"]) if "retention" in m else ""
    head = f"""---
library_name: keras
license: other
tags: [audio, audio-classification, soundpred, fsdkaggle2018{', yamnet, audioset' if yamnet else ''}]
pipeline_tag: audio-classification
datasets: [fsdkaggle2018]
metrics:
- name: top1
  value: {test.get("top1")}
- name: map3
  value: {test.get("map3")}
---
# soundpred classifier: {meta["name"]}

Waveform in ({tr["frontend"]["sample_rate"]} Hz mono), scores over {len(meta["labels"])} of the
41 FSDKaggle2018 labels out{" and YAMNet's 521 AudioSet scores beside them (for the open-set decision)" if yamnet else ""}.
The log-mel front end is a layer inside the model.
"""
    if yamnet:
        head += f"""
{YAMNET_ATTRIBUTION} The 41-label head starts from the AudioSet rows of the 40 labels YAMNet has
(Oboe from data alone) and is fine-tuned with distillation from the frozen YAMNet, so labels
without training clips keep what AudioSet taught them; the AudioSet head is YAMNet's, unchanged.
"""
    return head + f"""
## Data and licences
{tr["n_train"]} training clips; {tr["n_val"]} for validation (a stratified tenth of the FSDKaggle2018-layout
clips and whole held-out recording groups of more-real).
{origins}

The weights are derived from that audio: check those licences (several are non-commercial or
research-use) before any commercial use.

## Metrics (sliding {tr["frontend"]["window_seconds"]} s windows averaged, top-1 over all the model's labels)
| set | top-1 | MAP@3 | clips |
|---|---|---|---|
{rows}

| label | recall, test split | recall, more-real held out | note |
|---|---|---|---|
""" + "\n".join(per_label) + f"""
{open_md}
## Training
`{tr["command"]}` — {tr["epochs"]} epochs, {tr["train_seconds"]:.0f} s on {tr["machine"]}.
Architecture `{tr["arch"]}`, {tr["params"]} parameters.
"""
