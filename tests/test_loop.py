"""The optimisation loop, once for every task: exact resume, cancel, AMP decision, non-finite loss, save
cadence; then each task's loss against a hand computation (source training, entropy, self-training, SPCL)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import Recorder

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")
pytest.importorskip("timm")

from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402, N812

from crops_engine.device import amp_enabled  # noqa: E402
from crops_engine.errors import Cancelled, CropsError  # noqa: E402
from crops_engine.loop import Run, RunSettings, SaveCadence, Task, fit, open_resume  # noqa: E402
from crops_engine.metrics import IGNORE_INDEX  # noqa: E402
from crops_engine.progress import Progress  # noqa: E402
from crops_engine.schedule import warmup_cosine  # noqa: E402
from crops_engine.training_state import load_training_state  # noqa: E402

torch.set_num_threads(1)


# -- a toy task: what the loop needs, and nothing of any real task ------------------------------------------


class ToyTask(Task):
    """Conv-BN-dropout on random batches (batch s depends only on s); dropout draws from torch's global
    generator and `after_step` keeps a running trace of the weights, so a resume must restore both."""

    name = "toy"

    def __init__(self, nan_at: int | None = None) -> None:
        torch.manual_seed(0)
        self.model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.3),
                                   nn.Conv2d(4, 3, 1))
        self.trace = torch.zeros(())
        self.nan_at = nan_at
        self.saves: list[tuple[int, bool]] = []
        self.evaluations: list[tuple[int, dict[str, float]]] = []

    def setup(self, run: Run) -> None:
        self.model.to(run.device).train()

    def parameters(self):
        return self.model.parameters()

    def batches(self, start_step, total_steps):
        for step in range(start_step, total_steps):
            g = torch.Generator().manual_seed(1000 + step)
            yield {"image": torch.randn(4, 2, 8, 8, generator=g), "label": torch.randint(0, 3, (4, 8, 8), generator=g)}

    def training_step(self, batch, step):
        with self.run.autocast():
            logits = self.model(batch["image"])
        loss = F.cross_entropy(logits.float(), batch["label"])
        if step == self.nan_at:
            loss = loss * float("nan")
        return loss, {"double": 2.0 * float(loss.detach())}

    def after_step(self, step):
        with torch.no_grad():
            self.trace = self.trace + self.model[0].weight.sum()

    def should_evaluate(self, done):
        return done % 4 == 0

    def evaluate(self, done, figures):
        self.evaluations.append((done, figures))

    def save(self, done, final):
        self.saves.append((done, final))

    def state_dict(self):
        return {**{f"model.{k}": v for k, v in self.model.state_dict().items()}, "trace": self.trace}, {"mine": 1}

    def load_state_dict(self, tensors, info):
        assert info["mine"] == 1 and info["task"] == "toy"
        self.model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        self.trace = tensors["trace"].clone()

    def kept(self):
        return "toy outputs" if self.saves else "no model was saved yet"


def settings(resume_file, total=10, **kw) -> RunSettings:
    values = dict(total_steps=total, lr=1e-2, resume_file=resume_file, warmup=0.3, device="cpu", seed=0,
                  save_every=0)
    values.update(kw)
    return RunSettings(**values)



# -- the loop ---------------------------------------------------------------------------------------------------


def test_resume_continues_bit_for_bit(tmp_path):
    straight = ToyTask()
    fit(straight, settings(tmp_path / "straight.resume.safetensors"), Progress())

    cut = tmp_path / "cut.resume.safetensors"
    with pytest.raises(Cancelled):
        fit(ToyTask(), settings(cut), Recorder(cancel_at=4).progress())
    assert load_training_state(cut).step == 4
    resumed = ToyTask()
    rec = Recorder()
    result = fit(resumed, settings(cut), rec.progress(), open_resume(cut))
    assert result.start_step == 4 and result.steps == 10 and result.steps_timed == 6
    assert any("Resuming from" in p["text"] and "at step 4 of 10" in p["text"] for e, p in rec.events if e == "log")

    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values(), strict=True):
        torch.testing.assert_close(b, a, rtol=0, atol=0, msg=name)
    assert torch.equal(resumed.trace, straight.trace)  # the task's own state came back
    a, b = load_training_state(tmp_path / "straight.resume.safetensors"), load_training_state(cut)
    assert a.step == b.step == 10
    for key, moments in a.optimizer["state"].items():
        torch.testing.assert_close(b.optimizer["state"][key]["exp_avg_sq"], moments["exp_avg_sq"], rtol=0, atol=0)
    assert b.optimizer["param_groups"][0]["lr"] == a.optimizer["param_groups"][0]["lr"]
    assert b.optimizer["param_groups"][0]["lr"] == pytest.approx(1e-2 * warmup_cosine(10, 10, 3))


def test_resume_takes_this_runs_lr_and_steps(tmp_path):
    path = tmp_path / "run.resume.safetensors"
    fit(ToyTask(), settings(path, total=10), Progress())
    fit(ToyTask(), settings(path, total=14, lr=5e-3), Progress(), open_resume(path))  # longer, another LR
    state = load_training_state(path)
    assert state.step == 14
    for group in state.optimizer["param_groups"]:
        assert group["initial_lr"] == 5e-3
        assert group["lr"] == pytest.approx(5e-3 * warmup_cosine(14, 14, 4))
    with pytest.raises(CropsError, match=r"already trained 14 steps .* raise ITERATIONS"):
        fit(ToyTask(), settings(path, total=14), Progress(), open_resume(path))

    class Other(ToyTask):
        name = "other"

    with pytest.raises(CropsError, match="resume state of a toy run, not of a other run"):
        fit(Other(), settings(path, total=20), Progress(), open_resume(path))
    with pytest.raises(CropsError, match="does not exist"):
        open_resume(tmp_path / "missing.resume.safetensors")


def test_cancel_writes_the_resume_state_and_says_how_to_continue(tmp_path):
    path = tmp_path / "c.resume.safetensors"
    rec = Recorder(cancel_at=3)
    task = ToyTask()
    with pytest.raises(Cancelled):
        fit(task, settings(path), rec.progress())
    state = load_training_state(path)
    assert state.step == 3 and state.info["task"] == "toy" and state.info["total_steps"] == 10
    assert task.saves == []  # no save was due yet: the cancel writes the resume state only
    assert rec.warnings() == [f"Cancelled after step 3 of 10: no model was saved yet; continue with RESUME={path}."]

    early = Recorder()
    early.cancel.set()
    other = tmp_path / "early.resume.safetensors"
    with pytest.raises(Cancelled):
        fit(ToyTask(), settings(other), early.progress())
    assert not other.exists()
    assert early.warnings() == ["Cancelled before the first step; no model was saved yet."]


def test_amp_is_decided_by_the_device(tmp_path):
    assert amp_enabled(torch.device("cpu"), True) is False  # CPU autocast is slower for convolutions
    assert amp_enabled(torch.device("cuda"), True) is True
    assert amp_enabled(torch.device("cuda"), False) is False
    run = Run(ToyTask(), settings(tmp_path / "r.resume.safetensors", amp=True))
    assert run.amp is False and not run.scaler.is_enabled()
    with run.autocast():
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
    assert run.provenance()["amp"] is False and run.provenance()["device"] == "cpu"
    if torch.cuda.is_available():
        gpu = Run(ToyTask(), settings(tmp_path / "g.resume.safetensors", amp=True, device="cuda"))
        assert gpu.amp is True and gpu.scaler.is_enabled()
        with gpu.autocast():
            assert (torch.ones(2, 2, device="cuda") @ torch.ones(2, 2, device="cuda")).dtype == torch.float16


def test_non_finite_loss_is_a_clear_error(tmp_path):
    with pytest.raises(CropsError, match=r"The toy loss became nan at step 3 \(step LR .*\): lower LR \(now 0\.01\)\."):
        fit(ToyTask(nan_at=2), settings(tmp_path / "n.resume.safetensors"), Progress())


def test_save_cadence_by_steps_and_by_clock(tmp_path):
    cadence = SaveCadence(every_steps=3)
    assert cadence.due(3, 0.0) and cadence.due(6, 0.0) and not cadence.due(4, 1e9)
    clock = SaveCadence(every_steps=0, every_seconds=10.0, now=100.0)
    assert not clock.due(1, 105.0) and clock.due(2, 110.0)
    clock.mark(110.0)
    assert not clock.due(3, 115.0) and clock.due(4, 121.0)

    task = ToyTask()
    fit(task, settings(tmp_path / "s.resume.safetensors", total=7, save_every=3), Progress())
    assert task.saves == [(3, False), (6, False), (7, True)]  # and always after the last step
    assert load_training_state(tmp_path / "s.resume.safetensors").step == 7
    every = ToyTask()
    fit(every, settings(tmp_path / "e.resume.safetensors", total=3, save_every_s=0.0), Progress())
    assert every.saves == [(1, False), (2, False), (3, True)]
    rarely = ToyTask()
    fit(rarely, settings(tmp_path / "r.resume.safetensors", total=3, save_every_s=3600.0), Progress())
    assert rarely.saves == [(3, True)]


def test_evaluation_gets_the_means_since_the_last_one(tmp_path):
    task = ToyTask()
    rec = Recorder()
    fit(task, settings(tmp_path / "v.resume.safetensors", total=10), rec.progress())
    assert [d for d, _ in task.evaluations] == [4, 8, 10]  # when due, and after the last step
    steps = [p["text"] for e, p in rec.events if e == "progress" and p.get("text", "").startswith("Step ")]
    losses = [float(t.split("loss ")[1].split()[0]) for t in steps]
    assert len(losses) == 10
    for (_, figures), window in zip(task.evaluations, (losses[:4], losses[4:8], losses[8:]), strict=True):
        assert figures["loss"] == pytest.approx(np.mean(window), abs=1e-4)
        assert figures["double"] == pytest.approx(2 * figures["loss"], rel=1e-6)


# -- each task's loss -----------------------------------------------------------------------------------------------


def hand_cross_entropy(logits, labels, weight=None):
    """Mean over labelled pixels of -log softmax at the label, each weighted by `weight` (per pixel)."""
    logp = logits.double().log_softmax(dim=1)
    labelled = labels != IGNORE_INDEX
    nll = -logp.gather(1, labels.clamp(max=logits.shape[1] - 1)[:, None])[:, 0]
    w = torch.ones_like(nll) if weight is None else weight.double()
    return float((nll * w * labelled).sum() / labelled.sum())


def test_source_training_loss_is_cross_entropy_with_ignore(tmp_path):
    from test_train import TINY, make_store

    from crops_engine.models import build_model
    from crops_engine.train import SourceTraining, TrainConfig, open_source_blocks

    cfg = TrainConfig(blocks=str(make_store(tmp_path / "store")), output=str(tmp_path / "m.safetensors"),
                      arch_args=TINY, device="cpu", class_weights="balanced")
    model = build_model("unet", 3, 2, **TINY).eval()
    task = SourceTraining(cfg, open_source_blocks(cfg, Progress()), model, "unet", TINY, 0)
    Run(task, settings(tmp_path / "t.resume.safetensors"))
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 2, (2, 8, 8), generator=g)
    labels[:, :3] = IGNORE_INDEX
    batch = {"image": torch.randn(2, 3, 8, 8, generator=g), "label": labels}
    assert task.loss_fn.weight is not None  # CLASS_WEIGHTS balanced (1, 1 on this even checkerboard) ...
    task.loss_fn.weight = torch.tensor([0.3, 1.7])  # ... made uneven, so the weighting shows
    loss, _ = task.training_step(batch, 0)
    with torch.no_grad():
        logits = model(batch["image"]).logits
    class_weights = torch.tensor([0.3, 1.7], dtype=torch.float64)
    # PyTorch's weighted mean: sum of w[y] * nll over labelled pixels / sum of w[y]
    logp = logits.double().log_softmax(dim=1)
    keep = labels != IGNORE_INDEX
    nll = -logp.gather(1, labels.clamp(max=1)[:, None])[:, 0]
    w = class_weights[labels.clamp(max=1)] * keep
    assert float(loss.detach()) == pytest.approx(float((nll * w).sum() / w.sum()), rel=1e-5)
    task.loss_fn.weight = None  # without class weights: the plain mean over labelled pixels
    plain = float(task.training_step(batch, 0)[0].detach())
    assert plain == pytest.approx(hand_cross_entropy(logits, labels), rel=1e-5)
    task.close()


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    """An untrained 3-class checkpoint and a partitioned 10-band target store (test_partition's)."""
    from test_partition import make_random_target

    from crops_engine.blocks import BlockStore, write_partition

    t = make_random_target(tmp_path_factory.mktemp("loop-target"))
    n = len(BlockStore(t["store"]))
    write_partition(t["store"], np.linspace(1.0, 0.0, n), np.arange(0, n, 2), np.arange(1, n, 2))
    return t


def adaptation(method: str, t: dict, tmp_path, **kw):
    """(method set up on the target's hard blocks, a batch of four of them) as `AdaptationTask` runs it."""
    from crops_engine.adapt import make_config, method_class
    from crops_engine.adapt.target import open_target
    from crops_engine.adapt.task import AdaptationTask
    from crops_engine.checkpoint import load_model

    values = dict(model=str(t["model"]), blocks=str(t["store"]), output=str(tmp_path / f"{method}.safetensors"),
                  iterations=4, batch_size=4, device="cpu", seed=5, calibration_blocks=8)
    values.update(kw)
    cfg = make_config(method, **values)
    student, meta = load_model(cfg.model)
    store, indices = open_target(cfg.blocks, meta, "hard")
    torch.manual_seed(cfg.seed)
    task = AdaptationTask(method_class(method)(cfg, student, Progress()), meta, store, indices, "", "", Progress())
    run = Run(task, RunSettings(total_steps=cfg.iterations, lr=cfg.lr, resume_file=tmp_path / "r.resume.safetensors",
                                device="cpu", seed=cfg.seed))
    task.setup(run)
    batch = next(iter(task.batches(0, 1)))
    return task, batch, store


def test_entropy_loss_is_entropy_plus_diversity(target, tmp_path):
    task, batch, store = adaptation("entropy", target, tmp_path, parameters="all", diversity_weight=0.7,
                                    diversity_prior="source")
    method = task.method
    loss, terms = task.training_step(batch, 0)
    with torch.no_grad():
        probs = method.student(batch["image"]).logits.double().softmax(dim=1)
    k, valid = probs.shape[1], batch["valid"]
    entropy = -(probs * probs.log()).sum(dim=1) / math.log(k)
    ent = float(entropy[valid].mean())
    mean = probs.permute(0, 2, 3, 1)[valid].mean(dim=0)
    prior = method.prior.double()
    assert not torch.allclose(prior, torch.full((k,), 1.0 / k, dtype=torch.float64))  # the source model's shares
    div = float((mean * (mean.log() - prior.log())).sum()) / math.log(k)
    assert terms["entropy"] == pytest.approx(ent, rel=1e-5) and terms["diversity"] == pytest.approx(div, rel=1e-4)
    assert float(loss.detach()) == pytest.approx(ent + 0.7 * div, rel=1e-5)
    store.close()


def test_self_training_loss_is_cross_entropy_on_the_teachers_pseudo_labels(target, tmp_path):
    task, batch, store = adaptation("self_training", target, tmp_path, portion=0.5, conf_threshold=0.9, jitter=0.0)
    method = task.method
    x, valid = batch["image"], batch["valid"]
    with torch.no_grad():
        teacher = method.teacher.model(x).logits.softmax(dim=1)
    confidence, labels = teacher.max(dim=1)
    # thresholds that keep about half of this batch's pixels of each class (the calibrated ones keep all here)
    method.thresholds = torch.stack([confidence[labels == k].median() if bool((labels == k).any()) else
                                     torch.tensor(1.0) for k in range(3)])
    loss, terms = task.training_step(batch, 0)
    with torch.no_grad():
        student = method.student(x).logits
    keep = valid & (confidence >= method.thresholds[labels])
    assert 0 < int(keep.sum()) < int(valid.sum())  # per-class thresholds leave some pixels out
    labels = torch.where(keep, labels, torch.full_like(labels, IGNORE_INDEX))
    assert float(loss.detach()) == pytest.approx(hand_cross_entropy(student, labels), rel=1e-5)
    assert terms["labelled"] == pytest.approx(float(keep.sum()) / float(valid.sum()))
    store.close()


def test_spcl_loss_is_classmix_cross_entropy_plus_lambda_contrast(target, tmp_path):
    import copy

    from crops_engine.adapt.classmix import class_mix
    from crops_engine.adapt.prototypes import prototype_contrastive_loss

    task, batch, store = adaptation("spcl", target, tmp_path, conf_threshold=0.34, lambda_contrast=0.5,
                                    distribution_alignment=False, prototype_rectification=False, pixel_stride=2,
                                    mix_weighting="confidence", contrast_targets="confident")
    method, cfg, s = task.method, task.method.cfg, 2
    # what the step sees: the teacher's views of an easy and the hard batch, the prototypes after the easy one
    hard_x, hard_valid, _ = method.hard_batch(batch, 0)
    b = hard_x.shape[0]
    easy_x, easy_valid = method.easy.draw(0, 0, b)
    easy_labels, easy_confident, easy_confidence, embedding = method._teacher_view(easy_x, easy_valid)
    hard_labels, hard_confident, hard_confidence, _ = method._teacher_view(hard_x, hard_valid, embed=False)
    prototypes = copy.deepcopy(method.prototypes)
    prototypes.update(embedding, easy_confident)
    mixed = class_mix(easy_x, easy_valid, easy_labels, easy_confidence, hard_x, hard_valid, hard_labels,
                      hard_confidence, 3, torch.Generator().manual_seed(cfg.seed * 1_000_003), "confidence", 0.34)
    assert bool(mixed.mask.any()) and not bool(mixed.mask.all())

    loss, terms = task.training_step(batch, 0)
    with torch.no_grad():
        logits, student_embedding = method.student(mixed.image, True, s)
    mix_ce = hand_cross_entropy(logits, mixed.labels, mixed.weight)
    contrast = float(prototype_contrastive_loss(
        student_embedding, hard_confident[..., ::s, ::s], prototypes.prototypes(), cfg.temperature,
        mask=~mixed.mask[..., ::s, ::s], known=prototypes.initialised))
    assert contrast > 0.1
    assert terms["mix_ce"] == pytest.approx(mix_ce, rel=1e-5) and terms["contrast"] == pytest.approx(contrast, rel=1e-5)
    assert float(loss.detach()) == pytest.approx(mix_ce + 0.5 * contrast, rel=1e-5)
    store.close()
