"""The evidence table: every rule the calculator applies, with its source, scope and recipe.

The table is data, so the CLI (``lrkit calc --evidence``), the web page and the docs all
show the same rows. ``checked`` says how the statement was verified for lrkit: against
the paper's own text, against the authors' repository, or only against a secondary source
(those rows say so, and their numbers should be read with that in mind).

>>> evidence("scaling.linear").source
'Goyal et al. 2017, "Accurate, Large Minibatch SGD", arXiv:1706.02677, §2.1'
>>> len({row.id for row in EVIDENCE}) == len(EVIDENCE)
True
"""

from __future__ import annotations

import dataclasses
import difflib

from lrkit.errors import ConfigError

__all__ = ["EVIDENCE", "Evidence", "evidence"]


@dataclasses.dataclass(frozen=True)
class Evidence:
    """One rule of the calculator and where it comes from.

    Attributes:
        id: Stable identifier (``family.name``) used in every Recommendation.
        title: Short human name.
        formula: The rule as applied, in plain text.
        source: Paper (authors, year, title, arXiv id) and section; no URLs.
        scope: Where the rule was shown to hold, and where it is an extrapolation.
        recipe: The training recipe the rule was fitted on or taken from.
        checked: How lrkit verified the statement (paper text, repository, secondary).
    """

    id: str
    title: str
    formula: str
    source: str
    scope: str
    recipe: str
    checked: str

    def to_dict(self) -> dict[str, str]:
        """The row as a JSON-ready dict."""
        return dataclasses.asdict(self)


_PAPER = "paper text"
_RECALLED = "recalled from the paper; section not re-read for lrkit"

EVIDENCE: tuple[Evidence, ...] = (
    Evidence(
        "input.base-lr", "Your recipe's learning rate",
        "base_lr as given, at base_batch_size when given",
        "user input (--base-lr)", "the recipe you took it from", "your recipe", "n/a"),
    # ---- optimizer defaults and typical ranges -------------------------------------------
    Evidence(
        "optimizer.sgd", "Plain SGD default",
        "lr = 0.01 (typical 1e-3 .. 1e-1); no reference batch size",
        "Keras SGD default learning_rate=0.01; Robbins & Monro 1951 (method)",
        "any model; plain SGD without momentum needs roughly 1/(1-beta) times the LR of "
        "momentum SGD for the same effective step",
        "library default, not a tuned recipe", "library documentation"),
    Evidence(
        "optimizer.momentum", "SGD with momentum: ResNet recipe",
        "lr = 0.1 at batch 256, momentum 0.9 (typical 0.01 .. 0.5 at batch 256)",
        'He et al. 2016, "Deep Residual Learning", arXiv:1512.03385, §3.4; '
        "Goyal et al. 2017, arXiv:1706.02677, §5.1",
        "CNNs on ImageNet-scale vision; shown up to batch 8192 with linear scaling",
        "ResNet-50, ImageNet, 90 epochs, weight decay 1e-4, LR /10 at epochs 30, 60, 80",
        _PAPER),
    Evidence(
        "optimizer.nesterov", "SGD with Nesterov momentum",
        "same LR as heavy-ball momentum: lr = 0.1 at batch 256, momentum 0.9",
        'Sutskever et al. 2013, "On the importance of initialization and momentum", ICML, §2; '
        "LR taken from the ResNet recipe (He et al. 2016, §3.4)",
        "as for momentum SGD", "ResNet-50 / ImageNet recipe", _RECALLED),
    Evidence(
        "optimizer.adam", "Adam defaults",
        "lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 (typical 1e-5 .. 1e-2)",
        'Kingma & Ba 2015, "Adam", arXiv:1412.6980, Algorithm 1',
        "general default; no reference batch size is given in the paper",
        "the paper's suggested defaults for the tested ML problems", _PAPER),
    Evidence(
        "optimizer.adamw", "AdamW defaults",
        "lr = 1e-3, betas (0.9, 0.999), decoupled weight decay 0.01 (typical 1e-5 .. 3e-3)",
        'Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization", '
        "arXiv:1711.05101, Algorithm 2; defaults as in torch.optim.AdamW",
        "general default; transformers usually run lower peak LRs (1e-4 .. 6e-4)",
        "library default", "library documentation"),
    Evidence(
        "optimizer.rmsprop", "RMSprop defaults",
        "lr = 1e-3, decay (alpha) 0.9 .. 0.99 (typical 1e-4 .. 1e-2)",
        "Tieleman & Hinton 2012, Coursera Neural Networks lecture 6.5; Keras RMSprop "
        "default learning_rate=0.001 (PyTorch defaults to 0.01)",
        "general default", "library default", "library documentation"),
    Evidence(
        "optimizer.adagrad", "Adagrad defaults",
        "lr = 0.01 (typical 1e-3 .. 1e-1)",
        'Duchi et al. 2011, "Adaptive Subgradient Methods", JMLR 12; torch.optim.Adagrad '
        "default lr=0.01",
        "convex and sparse problems; the accumulated denominator makes the step decay by itself",
        "library default", "library documentation"),
    Evidence(
        "optimizer.lamb", "LAMB defaults",
        "lr = 1e-3 at small batch (typical 1e-4 .. 1e-2); large-batch BERT runs used larger "
        "LRs with warmup",
        'You et al. 2020, "Large Batch Optimization for Deep Learning: Training BERT in 76 '
        'minutes", arXiv:1904.00962, §4; default as in NVIDIA apex FusedLAMB',
        "BERT pre-training up to batch 65536; layer-wise trust ratio",
        "BERT-Large, Wikipedia + BooksCorpus", _RECALLED),
    Evidence(
        "optimizer.lars", "LARS: SimCLR recipe",
        "lr = 0.3 at batch 256, linear scaling (4.8 at batch 4096), trust coefficient 1e-3",
        'Chen et al. 2020, "A Simple Framework for Contrastive Learning" (SimCLR), '
        'arXiv:2002.05709, §2.2; You et al. 2017, "Large Batch Training of Convolutional '
        'Networks", arXiv:1708.03888',
        "very large batches (4k .. 32k) for CNNs", "ResNet-50 SimCLR pre-training, ImageNet",
        _RECALLED),
    Evidence(
        "optimizer.lion", "Lion defaults",
        "lr about 3-10x smaller than AdamW's: 1e-4, betas (0.9, 0.99) (typical 1e-5 .. 3e-4); "
        "weight decay 3-10x larger",
        'Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", arXiv:2302.06675, '
        "§5 (hyperparameter tuning)",
        "image classification, vision-language, diffusion and LM training in the paper",
        "the paper's AdamW baselines with LR divided by 3-10", _RECALLED),
    Evidence(
        "optimizer.adafactor", "Adafactor with an external LR",
        "lr = 1e-3 constant (T5 fine-tuning); without an LR Adafactor uses the relative step "
        "min(1e-2, 1/sqrt(t))",
        'Shazeer & Stern 2018, "Adafactor", arXiv:1804.04235, §7-8; Raffel et al. 2020 (T5), '
        "arXiv:1910.10683, §3.1",
        "transformers (T5); memory-light second moments", "T5 pre-training and fine-tuning",
        _RECALLED),
    # ---- optimizer choice by model kind ---------------------------------------------------
    Evidence(
        "choice.vision-sgd", "SGD with momentum for CNNs",
        "cnn/resnet -> SGD + momentum 0.9 (Nesterov), step or cosine decay",
        "He et al. 2016, arXiv:1512.03385, §3.4; Wilson et al. 2017, \"The Marginal Value of "
        'Adaptive Gradient Methods", arXiv:1705.08292, §5',
        "image classification CNNs; adaptive methods often generalised worse there",
        "ResNet / VGG on CIFAR and ImageNet", _RECALLED),
    Evidence(
        "choice.transformer-adamw", "AdamW for transformers",
        "transformer/vit/llm -> AdamW with warmup; LLM recipes use beta2 = 0.95",
        "Devlin et al. 2019 (BERT), arXiv:1810.04805, App. A.2; Loshchilov & Hutter 2019; "
        "Bi et al. 2024 (DeepSeek LLM), arXiv:2401.02954, §2.3",
        "attention models; SGD is rarely competitive on them",
        "BERT: Adam 1e-4, batch 256, 10k warmup, linear decay; DeepSeek: AdamW (0.9, 0.95)",
        _PAPER),
    Evidence(
        "choice.adam-default", "Adam as the general default",
        "mlp/rnn/unknown -> Adam (rnn: with gradient clipping)",
        "Kingma & Ba 2015, Algorithm 1; Pascanu et al. 2013, \"On the difficulty of training "
        'recurrent neural networks", arXiv:1211.5063, §3.2 (clipping)',
        "small dense networks and recurrent networks", "paper defaults", _RECALLED),
    Evidence(
        "choice.convex-sgd", "SGD for linear models",
        "linear -> SGD; with a known smoothness constant L use 1/L",
        'Nesterov 2004, "Introductory Lectures on Convex Optimization", §2.1.5',
        "convex, L-smooth losses (least squares, logistic regression)",
        "deterministic gradient descent theory", _RECALLED),
    # ---- batch-size scaling ---------------------------------------------------------------
    Evidence(
        "scaling.linear", "Linear scaling rule",
        "lr = base_lr * batch_size / base_batch_size (with gradual warmup)",
        'Goyal et al. 2017, "Accurate, Large Minibatch SGD", arXiv:1706.02677, §2.1',
        "SGD with momentum; ResNet-50 on ImageNet without loss of accuracy up to batch 8192; "
        "breaks down beyond that and early in training without warmup",
        "ResNet-50, ImageNet, 90 epochs, base 0.1 at batch 256", _PAPER),
    Evidence(
        "scaling.sqrt", "Square-root scaling rule (Adam, RMSprop)",
        "batch x kappa: lr * sqrt(kappa), 1 - beta1 -> kappa (1 - beta1), "
        "1 - beta2 -> kappa (1 - beta2), eps -> eps / sqrt(kappa)",
        'Malladi et al. 2022, "On the SDEs and Scaling Rules for Adaptive Gradient '
        'Algorithms", NeurIPS, arXiv:2205.10287, §4 (square-root scaling rule)',
        "Adam and RMSprop, derived from their SDE approximation (gradient noise dominates); "
        "applying it to Adagrad, LAMB, Lion or Adafactor is an extrapolation. Li et al. 2024 "
        "(arXiv:2405.14578) find the optimal Adam LR rises then falls with batch size",
        "vision and language experiments of the paper (e.g. ResNet, RoBERTa, GPT-2)",
        "abstract checked; the beta/eps mapping is the rule as commonly quoted and was not "
        "re-read in the paper for lrkit"),
    Evidence(
        "scaling.none", "No batch-size scaling",
        "lr = base_lr",
        "user choice (e.g. when the LR was tuned at the batch size actually used)",
        "any", "-", "n/a"),
    # ---- warmup ---------------------------------------------------------------------------
    Evidence(
        "warmup.gradual", "Gradual warmup for large batches",
        "linear ramp from ~0 to the scaled LR over 5 epochs",
        "Goyal et al. 2017, arXiv:1706.02677, §2.2",
        "SGD with the linear scaling rule at large batch (the paper's 8k); lrkit caps it at a "
        "quarter of the run",
        "ResNet-50, ImageNet, 90 epochs", _PAPER),
    Evidence(
        "warmup.adam", "Untuned warmup for adaptive optimizers",
        "linear warmup over 2 / (1 - beta2) steps (2000 for beta2 = 0.999, 40 for 0.95)",
        'Ma & Yarats 2021, "On the Adequacy of Untuned Warmup for Adaptive Optimization", '
        "AAAI, arXiv:1910.04209, §4 (untuned linear warmup)",
        "Adam-type optimizers with a second-moment average (Adam, AdamW, RMSprop, LAMB); "
        "lrkit caps it at a quarter of the run",
        "transformer LM / translation and image classification experiments of the paper",
        _RECALLED),
    Evidence(
        "warmup.transformer", "Warmup for attention models",
        "attention models always get a warmup of at least 1% of the run (the longest "
        "applicable warmup rule wins)",
        'Vaswani et al. 2017, "Attention Is All You Need", arXiv:1706.03762, §5.3 (4000 '
        "warmup steps); the 1% share is an lrkit heuristic anchored on BERT's 10k of 1M "
        "steps (Devlin et al. 2019, App. A.2)",
        "transformer, vit, llm", "Transformer on WMT; BERT pre-training",
        "paper text (the 1% share is lrkit's)"),
    Evidence(
        "warmup.recipe", "Warmup of a scaling-law recipe",
        "the warmup the law was fitted with (DeepSeek LLM and Step Law: 2000 steps)",
        "Bi et al. 2024, arXiv:2401.02954, §2.3; Li et al. 2025, arXiv:2503.04715, §2",
        "when a scaling law sets the LR", "the law's own recipe",
        "DeepSeek: paper text and the authors' README; Step Law: reference note"),
    # ---- fine-tuning ----------------------------------------------------------------------
    Evidence(
        "finetune.factor", "Fine-tuning LR about 10x smaller",
        "lr_finetune = 0.1 * lr_from_scratch",
        "rule of thumb; e.g. BERT pre-trains at 1e-4 and fine-tunes at 2e-5 .. 5e-5 "
        "(Devlin et al. 2019, arXiv:1810.04805, App. A.2-A.3)",
        "pre-trained weights, full fine-tuning; LoRA-style adapters usually take larger LRs",
        "BERT GLUE/SQuAD fine-tuning", "paper text (BERT numbers); the factor is a heuristic"),
    Evidence(
        "finetune.transformer-recipe", "BERT fine-tuning recipe",
        "Adam lr 3e-5 (grid 5e-5, 3e-5, 2e-5) at batch 32 (grid 16, 32), 2-4 epochs; used "
        "instead of the 0.1 factor when fine-tuning a transformer without --base-lr",
        "Devlin et al. 2019 (BERT), arXiv:1810.04805, App. A.3",
        "fine-tuning pre-trained transformer encoders on classification / QA",
        "BERT-Base/Large on GLUE and SQuAD", _PAPER),
    Evidence(
        "finetune.discriminative", "Discriminative (layer-wise) learning rates",
        "eta_l = eta_base * gamma ** (L - l), l = 1..L (top layer l = L gets eta_base); "
        "default gamma = 1 / 2.6",
        'Howard & Ruder 2018, "Universal Language Model Fine-tuning" (ULMFiT), '
        "arXiv:1801.06146, §3.2",
        "fine-tuning layered networks; layer-wise LR decay 0.65 .. 0.9 is common for BERT/ViT",
        "AWD-LSTM language model fine-tuned on text classification", _RECALLED),
    # ---- scaling laws for language models -------------------------------------------------
    Evidence(
        "law.deepseek", "DeepSeek LLM hyperparameter scaling law",
        "eta_opt = 0.3118 * C ** -0.1250 ; B_opt = 0.2920 * C ** 0.3271 tokens, C = M * D",
        'Bi et al. 2024, "DeepSeek LLM", arXiv:2401.02954, §3.1, Eq. (1)',
        "fitted for C between 1e17 and 2e19 FLOPs, validated at 1e20; near-optimal means "
        "within 0.25% of the best generalisation error",
        "AdamW (0.9, 0.95), weight decay 0.1, clip 1.0, 2000 warmup steps, multi-step decay "
        "to 31.6% at 80% and 10% at 90% of tokens, sequence length 4096",
        "paper text (constants confirmed; the published 7B/67B settings reproduce within 3%)"),
    Evidence(
        "law.deepseek-compute", "DeepSeek compute definition",
        "C = M * D with M = 72 n_layer d_model^2 + 12 n_layer d_model l_seq "
        "(non-embedding FLOPs per token, attention included); 6 N D is an approximation",
        "Bi et al. 2024, arXiv:2401.02954, §3.2",
        "decoder-only transformers; 6 N D differs from M D by up to ~50% for small models or "
        "long contexts", "same as law.deepseek", _PAPER),
    Evidence(
        "law.step-law", "Step Law",
        "eta_opt = 1.79 * N ** -0.713 * D ** 0.307 ; B_opt = 0.58 * D ** 0.571 tokens "
        "(N: non-vocabulary parameters, D: tokens)",
        'Li et al. 2025, "Predictable Scale: Part I, Step Law", arXiv:2503.04715, §3',
        "dense and MoE LLMs, several data recipes; the positive D exponent may be tied to "
        "its cosine schedule with a fixed minimum LR",
        "AdamW, 2000 warmup steps, cosine decay to a fixed minimum LR of 1e-5",
        "from lrkit's reference note; not re-checked against the paper"),
    Evidence(
        "law.porian", "Porian et al. hyperparameter law",
        "eta_opt = 3.7 * N ** -0.36 ; B_opt = 0.7576 * N ** 0.703 tokens",
        'Porian et al. 2024, "Resolving Discrepancies in Compute-Optimal Scaling of Language '
        'Models", arXiv:2406.19146, §4; coefficients as tabulated by Li et al. 2025 (Step Law '
        "comparison table)",
        "models of 5M to 901M parameters (OpenWebText2, RefinedWeb); extrapolated beyond",
        "AdamW with tuned beta2, OpenLM (Llama-style), cosine decay",
        "secondary source only (Step Law comparison table, CS336 lecture 11); not verified "
        "against Porian et al."),
    Evidence(
        "law.gpt3-table", "GPT-3 model-size table",
        "peak LR interpolated log-log in N between the published sizes: 125M 6e-4, 350M 3e-4, "
        "760M 2.5e-4, 1.3B 2e-4, 2.7B 1.6e-4, 6.7B 1.2e-4, 13B 1e-4, 175B 6e-5",
        'Brown et al. 2020, "Language Models are Few-Shot Learners", arXiv:2005.14165, '
        "Table 2.1",
        "decoder-only LMs of 125M .. 175B parameters; clamped outside",
        "Adam (0.9, 0.95), batch 0.5M .. 3.2M tokens, cosine decay to 10% over 260B tokens, "
        "375M-token warmup", _RECALLED),
    # ---- curvature ------------------------------------------------------------------------
    Evidence(
        "curvature.stability", "Stability ceiling from curvature",
        "gradient descent is stable iff lr < 2 / L; heavy-ball momentum beta: "
        "lr < (2 + 2 beta) / L (L = largest Hessian eigenvalue / smoothness constant)",
        'Cohen et al. 2021, "Gradient Descent on Neural Networks Typically Occurs at the Edge '
        'of Stability", arXiv:2103.00065, §2',
        "local quadratic model; for neural nets a ceiling at the measured point (sharpness "
        "adapts to the LR); does not bound Adam's LR (use the preconditioned Hessian)",
        "theory (quadratic)", _RECALLED),
    Evidence(
        "curvature.optimal", "Best fixed step for an L-smooth function",
        "lr* = 1 / L (maximises the guaranteed decrease f(x) - f(x') >= ||g||^2 / (2L))",
        'Nesterov 2004, "Introductory Lectures on Convex Optimization", §1.2.3',
        "deterministic gradient descent on L-smooth functions", "theory", _RECALLED),
    # ---- schedules ------------------------------------------------------------------------
    Evidence(
        "schedule.cosine", "Cosine decay",
        "lr(t) = end + (peak - end) (1 + cos(pi t / T)) / 2 after the warmup",
        'Loshchilov & Hutter 2017, "SGDR", arXiv:1608.03983, Eq. (5)',
        "general", "WRN on CIFAR (SGDR); the usual default for transformers and ViTs",
        _RECALLED),
    Evidence(
        "schedule.step", "Step decay (ResNet recipe)",
        "lr x 0.1 at 1/3, 2/3 and 8/9 of the run (epochs 30, 60, 80 of 90)",
        "Goyal et al. 2017, arXiv:1706.02677, §5.1; He et al. 2016, §3.4",
        "SGD on CNNs", "ResNet-50, ImageNet, 90 epochs", _PAPER),
    Evidence(
        "schedule.multistep", "Multi-step decay (DeepSeek LLM recipe)",
        "lr x 0.316 at 80% of the run and x 0.1 (of the peak) at 90%",
        "Bi et al. 2024, arXiv:2401.02954, §2.3",
        "LLM pre-training; allows continuing training from the first stage",
        "DeepSeek LLM 7B/67B, 2T tokens", "paper text and the authors' README"),
    Evidence(
        "schedule.linear", "Linear decay",
        "lr falls linearly from peak to end after the warmup",
        "Devlin et al. 2019 (BERT), arXiv:1810.04805, App. A.2",
        "transformer pre-training and fine-tuning", "BERT: 1M steps, 10k warmup", _PAPER),
    Evidence(
        "schedule.wsd", "Warmup-stable-decay",
        "hold the peak, then decay over the last 20% of the run with 1 - sqrt",
        'Hu et al. 2024 (MiniCPM), arXiv:2404.06395, §4.2; Hägele et al. 2024, "Scaling Laws '
        'and Compute-Optimal Training Beyond Fixed Training Durations", arXiv:2405.18392',
        "LLM pre-training; lets a run be extended without restarting", "MiniCPM", _RECALLED),
    Evidence(
        "schedule.inverse_sqrt", "Inverse square-root decay",
        "lr(t) = peak * sqrt(W / (t' + W)) after a warmup of W steps",
        "Vaswani et al. 2017, arXiv:1706.03762, §5.3, Eq. (3)",
        "transformers (translation)", "Transformer on WMT, 4000 warmup steps", _PAPER),
    Evidence(
        "schedule.exponential", "Exponential decay",
        "lr(t) = peak * r ** (t' / T): from peak to end = r * peak over the decay phase",
        "classical; e.g. Keras ExponentialDecay",
        "general", "-", "library documentation"),
    Evidence(
        "schedule.constant", "Constant after warmup",
        "lr(t) = peak after the warmup",
        "classical", "short runs, schedule-free optimizers, debugging", "-", "n/a"),
    # ---- convergence estimate -------------------------------------------------------------
    Evidence(
        "convergence.lr-settled", "Convergence epoch from the schedule",
        "first epoch after which |lr(t) - final_lr| <= 10% of (peak_lr - final_lr) for every "
        "later step",
        "lrkit definition (a schedule-only proxy: the run cannot change much once the LR has "
        "settled)",
        "any decaying schedule; undefined for a constant schedule",
        "-", "n/a"),
    Evidence(
        "convergence.loss-fit", "Convergence epoch from a loss history",
        "fit L(e) = a + b exp(-c e) and L(e) = a + b (e + 1) ** -c by least squares, keep the "
        "lower residual; the epoch where L(e) - a = 10% of (L(e_first) - a)",
        "lrkit definition; curve families as in Domhan et al. 2015 (IJCAI), §2",
        "a loss that decreases and saturates; needs at least 4 points",
        "-", "n/a"),
)

_BY_ID = {row.id: row for row in EVIDENCE}


def evidence(rule_id: str) -> Evidence:
    """The evidence row with id ``rule_id``.

    Raises:
        ConfigError: ``rule_id`` is not in the table (the message suggests the closest id).
    """
    try:
        return _BY_ID[rule_id]
    except KeyError:
        hint = difflib.get_close_matches(rule_id, list(_BY_ID), n=1)
        fix = f"did you mean {hint[0]!r}?" if hint else "see lrkit.rules.EVIDENCE"
        raise ConfigError(f"rule = {rule_id!r}: no such rule in the evidence table; {fix}") \
            from None
