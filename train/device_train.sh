#!/usr/bin/env bash
# Train a distance model on a lent GPU machine (the workplace's `device` tool), Keras on JAX.
#
# Here, once:   python -m train.device_pack            # -> .device/ (audio and wheels: 55 of the 64 MiB with the tree)
# There:        run(command="bash train/device_train.sh NAME [train.distance options]", carry=[".device"])
# Back here:    tar -xzf FILES_AT/NAME.tar.gz -C runs && python -m train.distance --evaluate runs/NAME --update-card
#               (with the run's --rooms, --seed and --speech where they are not the defaults)
#
# It installs the pack's wheels (Python 3.12), simulates the room banks on that machine's cores,
# trains with --no-evaluate and writes the bundle to $OUT/NAME.tar.gz and the log to $OUT/NAME.log (what
# comes back). Evaluation runs here, under TensorFlow, on the lossless sources. Locally (a test)
# it runs with whatever python3 has jax, without the wheels: SOUNDPRED_DEVICE_PACK names the pack.
# SOUNDPRED_DEVICE_SECONDS=N: stop training (and keep what was trained) so that the script ends
# within about N s of its start, whatever the install and the room simulation took: set it a little
# under the call's timeout_s.
set -euo pipefail
began=$(date +%s)
cd "$(dirname "$0")/.."
pack=${SOUNDPRED_DEVICE_PACK:-.device}
out=${OUT:?OUT is the folder whose files come back (the device tool sets it)}
name=${1:?usage: device_train.sh NAME [train.distance options]}
shift
if [ -d "$pack/wheels" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$pack"/wheels/*.whl
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
# JAX takes 75 % of the GPU's memory at its first operation unless told not to: then a second
# run of this script beside the first (its own GIL, its own batch threads) fails to start
export XLA_PYTHON_CLIENT_PREALLOCATE=${XLA_PYTHON_CLIENT_PREALLOCATE:-false}
export SOUNDPRED_CACHE=${SOUNDPRED_CACHE:-/tmp/soundpred-cache}
mkdir -p "$SOUNDPRED_CACHE/speech" /tmp/soundpred-runs
cp "$pack"/cache/speech/* "$SOUNDPRED_CACHE/speech/"
{ nvidia-smi -L 2>/dev/null || echo "no GPU"; python3 -c "import jax, keras; print('jax', jax.__version__, jax.devices(), 'keras', keras.__version__)"; } \
  | tee "$out/$name.log"
start=$(date +%s)
deadline=()
if [ -n "${SOUNDPRED_DEVICE_SECONDS:-}" ]; then  # 20 s kept for the archive
  deadline=(--stop-by "$(( began + SOUNDPRED_DEVICE_SECONDS - 20 ))")
fi
python3 -m train.distance --out "/tmp/soundpred-runs/$name" --data "$pack/data/fsd-starter" --no-evaluate "$@" \
  "${deadline[@]}" 2>&1 \
  | tee -a "$out/$name.log"
echo "device_train.sh: $(( $(date +%s) - start )) s" | tee -a "$out/$name.log"
tar -czf "$out/$name.tar.gz" -C /tmp/soundpred-runs "$name"  # one file: the tool brings back 8 at most
