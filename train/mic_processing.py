"""Call-style microphone processing (WebRTC's noise suppression and automatic gain, as browsers and
phones apply them to a call's audio) for the distance probes and the trainer; and 20-ms level
percentiles to compare recordings by.

The processing comes from the ``webrtc-noise-gain`` package (Apache-2.0; a wrapper of PulseAudio's
webrtc-audio-processing, an older WebRTC than Chromium's): 16 kHz, 16-bit mono, 10-ms chunks.
"""
from __future__ import annotations

import numpy as np

#: the level every input is set to before the processing (the app's examples' RMS), dBFS
LEVEL_DBFS = -25.0


def webrtc_processed(y: np.ndarray, noise_suppression: int, auto_gain: int, *, passes: int = 2) -> np.ndarray:
    """``y`` (16 kHz mono float) at :data:`LEVEL_DBFS` RMS (at most 0.99 peak), as 16-bit PCM
    through WebRTC's processing (``noise_suppression`` level 0-4, 0 off; ``auto_gain`` target in
    dBFS, 0 off), ``passes`` times in a row through one fresh processor so that it has adapted, as
    in a running call; the last pass, as float, at that level (the gain control's changes stay).
    With both off, the level and the 16-bit step alone. Silence stays silence."""
    y = np.asarray(y, np.float32)
    rms = float(np.sqrt(np.mean(y ** 2)))
    if rms == 0:
        return y.copy()
    gain = min(10 ** (LEVEL_DBFS / 20) / rms, 0.99 / float(np.max(np.abs(y))))
    pcm = np.round(np.tile(y * gain, passes) * 32767).astype(np.int16)
    if noise_suppression or auto_gain:
        from webrtc_noise_gain import AudioProcessor

        proc = AudioProcessor(auto_gain, noise_suppression)
        chunks = np.pad(pcm, (0, -len(pcm) % 160)).reshape(-1, 160)  # 10-ms chunks, the last one padded
        pcm = np.concatenate([np.frombuffer(proc.Process10ms(c.tobytes()).audio, np.int16) for c in chunks])
    return pcm[(passes - 1) * len(y):passes * len(y)].astype(np.float32) / 32768


def levels_db(y: np.ndarray, sr: int = 16000) -> tuple[float, float, float]:
    """10th, 50th and 90th percentile of the 20-ms levels, dBFS."""
    frame = int(0.02 * sr)
    n = len(y) // frame
    lev = 10 * np.log10(np.mean(y[:n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    return tuple(float(v) for v in np.percentile(lev, [10, 50, 90]))
