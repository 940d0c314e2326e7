"""Self-supervised pretraining of a segmentation model's encoder on unlabelled blocks (SimSiam).

Modules: `augment` (the two views of a multispectral block), `simsiam` (projector, predictor, loss with
stop-gradient, collapse statistic), `view` (a model's encoder on its own), `encoder` (the encoder
checkpoint: metadata, save, load into a model), `data` (composites and stores as unlabelled blocks),
`run` (the pretraining task of the optimisation loop, `pretrain`), `evaluation` (linear probe and
fine-tuning vs random initialisation), `report` (plots and the HTML report). This package's `__init__`
imports nothing, so `train` can import `encoder` without torch-heavy modules coming along.
"""
