"""Training and evaluation scripts: run as ``python -m train.classifier`` etc. from the repo root."""
