"""Tasks built from a framework's own objects, so ``lrkit.auto`` (and ``tune``, ``find``,
``sharpness``) train the user's model the way the framework does.

* ``task_from_lightning(module, datamodule)``: the model factory returns copies of the
  module as it is now; the optimizer comes from ``configure_optimizers`` on that copy
  (its parameter groups keep their LR ratios); the training step is the module's
  ``training_step`` (``Task.forward``); the data are the datamodule's training and
  validation datasets; the schedule shape comes from a step-wise scheduler it returns.
* ``task_from_trainer(trainer)``: a Hugging Face Trainer's model (copied), its optimizer
  (``Trainer.get_optimizer_cls_and_kwargs`` with the Trainer's weight-decay groups), its
  ``compute_loss`` and its datasets; the schedule shape from ``lr_scheduler_type`` and
  the warmup, through ``lrkit.interop.from_hf``.
* ``task_from_keras(model, x, y)``: the compiled model (cloned with its weights; on the
  torch backend a Keras model is a ``torch.nn.Module``), its compiled loss
  (``model.compute_loss``) and the torch twin of its optimizer (Adam, AdamW, SGD,
  RMSprop with the same hyperparameters); the schedule shape from a Keras LR schedule.

Each factory copies the *current* state of your object: every candidate run starts from
the same weights (your initialisation), whatever its seed.

>>> from lrkit.integrations.tasks import schedule_shape
>>> schedule_shape({"family": "cosine", "peak_lr": 0.1, "total_steps": 100,
...                 "warmup_steps": 10})
{'family': 'cosine', 'warmup_steps': 0.1}
"""

from __future__ import annotations

import copy
import inspect
import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from lrkit._deps import require
from lrkit.errors import ConfigError, LrkitError
from lrkit.tasks.task import LR_PARAMETER, Task

__all__ = ["schedule_shape", "task_from_keras", "task_from_lightning", "task_from_trainer"]


def schedule_shape(spec: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A schedule spec without its height and length: the shape a Task takes.

    The LR parameter and ``total_steps`` are dropped (lrkit fills them for each run) and
    a warmup in updates becomes a fraction of the run; None when the spec has no single
    LR parameter (a ``join`` of pieces, a piecewise table).
    """
    if spec is None:
        return None
    family = spec.get("family")
    if family == "join":
        return _warmup_join(spec)
    if family not in LR_PARAMETER:
        return None
    shape = {k: v for k, v in spec.items() if k not in (LR_PARAMETER[family], "total_steps")}
    total = spec.get("total_steps")
    warm = shape.get("warmup_steps")
    if isinstance(warm, int | float) and isinstance(total, int | float) and total > 0:
        if warm:
            shape["warmup_steps"] = round(float(warm) / float(total), 6)
        else:
            shape.pop("warmup_steps")
    return shape


def _warmup_join(spec: Mapping[str, Any]) -> dict[str, Any] | None:
    """``join([linear warmup from 0, X])`` (how HF and Keras write a warmup) as X with a
    ``warmup_steps`` key, which ``fill_schedule`` turns back into that same join."""
    pieces, bounds = spec.get("pieces") or [], spec.get("boundaries") or []
    if len(pieces) != 2 or len(bounds) != 1 or pieces[0].get("family") != "linear_warmup" \
            or pieces[0].get("init_lr", 0.0) != 0.0:
        return None
    main = dict(pieces[1])
    warm = int(bounds[0])
    if isinstance(main.get("total_steps"), int | float):
        main["total_steps"] = main["total_steps"] + warm
    main["warmup_steps"] = warm
    return schedule_shape(main)


def _spec_or_none(build: Callable[[], Any]) -> dict[str, Any] | None:
    try:
        return schedule_shape(build().to_spec())
    except (LrkitError, TypeError, ValueError, AttributeError):
        return None  # a scheduler lrkit cannot read: the task uses a constant LR


class _Copies:
    """Fresh copies of a template model, remembered so the optimizer factory finds them."""

    def __init__(self, template: Any) -> None:
        self.template = copy.deepcopy(template)
        self.made: list[Any] = []

    def __call__(self) -> Any:
        model = copy.deepcopy(self.template)
        self.made = [model]  # only the latest: the verbs build one model, then its optimizer
        return model

    def owner(self, params: list[Any]) -> Any:
        """The copy these parameters belong to (None: parameters of something else)."""
        if not params:
            return None
        first = params[0]["params"][0] if isinstance(params[0], dict) else params[0]
        for model in self.made:
            if any(p is first for p in model.parameters()):
                return model
        return None


def _scaled_groups(optimizer: Any, lr: float) -> Any:
    """Set group 0's LR to ``lr`` and the others in proportion (their ratios kept)."""
    base = float(optimizer.param_groups[0]["lr"])
    for group in optimizer.param_groups:
        ratio = float(group["lr"]) / base if base > 0 else 1.0
        group["lr"] = lr * ratio
        group.pop("initial_lr", None)
    return optimizer


def _dataset(loader: Any, what: str) -> Any:
    dataset = getattr(loader, "dataset", None)
    if dataset is None or not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
        raise ConfigError(f"{what}: must return a DataLoader over a map-style Dataset; "
                          "lrkit draws its own batches from the dataset")
    return dataset


# ----------------------------------------------------------------------- Lightning
def _lightning_optimizer(module: Any) -> tuple[Any, Any, str]:
    """``(optimizer, scheduler, interval)`` from ``configure_optimizers``."""
    try:
        conf = module.configure_optimizers()
    except RuntimeError as err:
        raise ConfigError(f"configure_optimizers: needs a fitted trainer ({err}); pass "
                          "schedule= and keep configure_optimizers free of self.trainer") from None
    scheduler, interval = None, "epoch"
    if isinstance(conf, Mapping):
        opt = conf["optimizer"]
        sched = conf.get("lr_scheduler")
        if isinstance(sched, Mapping):
            scheduler, interval = sched.get("scheduler"), sched.get("interval", "epoch")
        else:
            scheduler = sched
    elif isinstance(conf, list | tuple) and len(conf) == 2 and isinstance(conf[0], list | tuple):
        opt = conf[0][0]
        scheds = list(conf[1])
        first = scheds[0] if scheds else None
        if isinstance(first, Mapping):
            scheduler, interval = first.get("scheduler"), first.get("interval", "epoch")
        else:
            scheduler = first
    elif isinstance(conf, list | tuple):
        opt = conf[0]
    else:
        opt = conf
    return opt, scheduler, interval


def _torch_scheduler_shape(scheduler: Any, lr: float) -> dict[str, Any] | None:
    from lrkit.interop import from_torch

    def build() -> Any:
        params = inspect.signature(type(scheduler).__init__).parameters
        kwargs = {name: getattr(scheduler, name) for name in params
                  if name not in ("self", "optimizer", "last_epoch", "verbose")
                  and hasattr(scheduler, name)}
        if "milestones" in kwargs:
            kwargs["milestones"] = sorted(kwargs["milestones"])
        return from_torch(type(scheduler).__name__, lr, **kwargs)

    return _spec_or_none(build)


def task_from_lightning(module: Any, datamodule: Any = None, *, trainer: Any = None,
                        epochs: int | None = None, name: str | None = None,
                        schedule: str | dict[str, Any] | None = None) -> Task:
    """A Task that trains ``module`` with its own ``training_step`` and optimizer.

    Args:
        module: the LightningModule (copied as it is now).
        datamodule: its LightningDataModule (``setup("fit")`` is called); without one the
            module's own ``train_dataloader``/``val_dataloader`` are used.
        trainer: a Trainer to read ``max_epochs`` from (optional).
        epochs: the run's length (default: ``trainer.max_epochs``, else 1).
        name: the task's label (default: the module's class name).
        schedule: the schedule shape; default: read from a step-wise scheduler returned
            by ``configure_optimizers`` (constant when there is none or it is per epoch).

    Raises:
        ConfigError: no training data, or ``configure_optimizers`` needs a trainer.
    """
    require("lightning.pytorch", extra="lightning")
    source = datamodule if datamodule is not None else module
    if datamodule is not None and hasattr(datamodule, "setup"):
        datamodule.setup("fit")
    loader = source.train_dataloader()
    train = _dataset(loader, "train_dataloader()")
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    try:
        val = _dataset(source.val_dataloader(), "val_dataloader()")
    except (MisconfigurationException, NotImplementedError, AttributeError, TypeError,
            ConfigError):
        val = train  # no validation data: auto then ranks candidates on training data
    copies = _Copies(module)
    opt0, sched0, interval = _lightning_optimizer(copy.deepcopy(module))
    base_lr = float(opt0.param_groups[0]["lr"])
    if schedule is None and sched0 is not None and interval == "step":
        schedule = _torch_scheduler_shape(sched0, base_lr)

    def optimizer(params: Any, lr: float) -> Any:
        params = list(params)
        model = copies.owner(params)
        if model is None:  # someone else's parameters (auto probes the optimizer's type)
            accepted = inspect.signature(type(opt0).__init__).parameters
            kept = {k: v for k, v in opt0.defaults.items() if k in accepted}
            return type(opt0)(params, **{**kept, "lr": float(lr)})
        opt, _, _ = _lightning_optimizer(model)
        return _scaled_groups(opt, lr)

    def forward(model: Any, batch: Any) -> Any:
        with warnings.catch_warnings():
            # self.log without a Trainer only warns; lrkit trains without one
            warnings.simplefilter("ignore")
            out = model.training_step(batch, 0)
        loss = out.get("loss") if isinstance(out, Mapping) else out
        if loss is None:
            raise ConfigError("training_step: returned no loss; return the loss tensor")
        return loss

    n_epochs = epochs if epochs is not None else int(getattr(trainer, "max_epochs", 0) or 1)
    if n_epochs < 1:
        n_epochs = 1
    return Task(name=name or type(module).__name__, model=copies, optimizer=optimizer,
                loss_fn=None, forward=forward, train_data=train, val_data=val,
                batch_size=int(getattr(loader, "batch_size", None) or 32), epochs=n_epochs,
                schedule=schedule)


# ----------------------------------------------------------------------- Hugging Face
def task_from_trainer(trainer: Any, *, epochs: int | None = None, name: str | None = None,
                      schedule: str | dict[str, Any] | None = None) -> Task:
    """A Task that trains a Hugging Face Trainer's model with its loss and optimizer.

    Args:
        trainer: the ``transformers.Trainer`` (its model is copied as it is now).
        epochs: the run's length (default ``args.num_train_epochs``).
        name: the task's label (default: the model's class name).
        schedule: the schedule shape (default: from ``lr_scheduler_type`` and warmup).

    Raises:
        ConfigError: no training data.

    A padding collator (``DataCollatorWithPadding``, ``DataCollatorForLanguageModeling``,
    any other) makes the task's batches, as in the Trainer (``TrainerCollated``).
    """
    hf = require("transformers", extra="transformers")
    args = trainer.args
    if trainer.train_dataset is None:
        raise ConfigError("trainer.train_dataset = None: build the Trainer with "
                          "train_dataset=... first")
    collator = type(trainer.data_collator).__name__ if trainer.data_collator else None
    padded = collator not in (None, "function", "DefaultDataCollator")
    copies = _Copies(trainer.model)
    opt_cls, opt_kwargs = hf.Trainer.get_optimizer_cls_and_kwargs(args, trainer.model)
    batch = int(args.per_device_train_batch_size) * int(args.gradient_accumulation_steps)
    n_epochs = epochs if epochs is not None else max(1, math.ceil(args.num_train_epochs))
    if schedule is None:
        per_epoch = max(1, len(trainer.train_dataset) // batch)
        total = per_epoch * n_epochs
        warm = args.get_warmup_steps(total)
        from lrkit.interop import from_hf

        schedule = _spec_or_none(lambda: from_hf(str(args.lr_scheduler_type.value), 1.0,
                                                 num_warmup_steps=warm,
                                                 num_training_steps=total))

    def optimizer(params: Any, lr: float) -> Any:
        params = list(params)
        model = copies.owner(params)
        if model is None:  # someone else's parameters (auto probes the optimizer's type)
            return opt_cls(params, **{**opt_kwargs, "lr": float(lr)})
        decay = set(trainer.get_decay_parameter_names(model))
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        groups = [{"params": [p for n, p in named if n in decay],
                   "weight_decay": args.weight_decay},
                  {"params": [p for n, p in named if n not in decay], "weight_decay": 0.0}]
        kwargs = {**opt_kwargs, "lr": float(lr)}
        return opt_cls([g for g in groups if g["params"]], **kwargs)

    def forward(model: Any, batch: Any) -> Any:
        return trainer.compute_loss(model, batch)

    train_data = trainer.train_dataset
    val = trainer.eval_dataset if trainer.eval_dataset is not None else train_data
    if padded:  # the Trainer's own collator batches (pads, masks) the items
        train_data = _with_trainer_collator(trainer, train_data, "training")
        val = _with_trainer_collator(trainer, val, "evaluation")
    return Task(name=name or type(trainer.model).__name__, model=copies, optimizer=optimizer,
                loss_fn=None, forward=forward, train_data=train_data,
                val_data=val, batch_size=batch, epochs=n_epochs, schedule=schedule)


class TrainerCollated:
    """A dataset whose batches are made by a Trainer's data collator (``collate``).

    lrkit's batching (``lrkit.tasks.data.collate``) calls ``collate(items)`` instead of
    torch's ``default_collate``, so variable-length token lists are padded (and masked,
    for ``DataCollatorForLanguageModeling``) exactly as the Trainer's dataloader does.
    """

    def __init__(self, dataset: Any, collator: Callable[[list[Any]], Any]) -> None:
        self.dataset = dataset
        self.collator = collator

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[index]

    def collate(self, items: list[Any]) -> dict[str, Any]:
        """The collator's batch as a plain dict (a ``BatchEncoding`` is not one)."""
        return dict(self.collator(items))


def _with_trainer_collator(trainer: Any, dataset: Any, description: str) -> TrainerCollated:
    """``dataset`` batched as the Trainer's dataloader batches it: unused columns dropped
    (from a ``datasets.Dataset`` itself, else by the collator wrapper), then its collator."""
    collator = trainer.data_collator
    try:
        import datasets

        is_hf = isinstance(dataset, datasets.Dataset)
    except ImportError:
        is_hf = False
    if is_hf:
        dataset = trainer._remove_unused_columns(dataset, description=description)
    else:
        collator = trainer._get_collator_with_removed_columns(collator,
                                                              description=description)
    return TrainerCollated(dataset, collator)


# ----------------------------------------------------------------------- Keras
def _torch_twin(kind: str, config: Mapping[str, Any]) -> Callable[[Any, float], Any]:
    """The torch optimizer with a Keras optimizer's hyperparameters (``kind``: its class)."""
    torch = require("torch", extra="torch")
    kind = kind.lower()
    wd = float(config.get("weight_decay") or 0.0)
    if kind in ("adam", "adamw"):
        cls = torch.optim.AdamW if (kind == "adamw" or wd) else torch.optim.Adam
        extra = {"betas": (config["beta_1"], config["beta_2"]), "eps": config["epsilon"],
                 "amsgrad": bool(config.get("amsgrad")), "weight_decay": wd}
    elif kind == "sgd":
        cls = torch.optim.SGD
        extra = {"momentum": float(config.get("momentum") or 0.0),
                 "nesterov": bool(config.get("nesterov")), "weight_decay": wd}
    elif kind == "rmsprop":
        cls = torch.optim.RMSprop
        extra = {"alpha": config["rho"], "momentum": float(config.get("momentum") or 0.0),
                 "eps": config["epsilon"], "centered": bool(config.get("centered")),
                 "weight_decay": wd}
    else:
        raise ConfigError(f"model.optimizer = {kind!r}: task_from_keras knows adam, adamw, "
                          "sgd and rmsprop; compile with one of them or build the Task "
                          "yourself")

    def make(params: Any, lr: float) -> Any:
        return cls(params, lr=float(lr), **extra)

    return make


def task_from_keras(model: Any, x: Any, y: Any, *, validation_data: Any = None,
                    batch_size: int = 32, epochs: int = 1, name: str | None = None,
                    schedule: str | dict[str, Any] | None = None) -> Task:
    """A Task that trains a compiled Keras model (torch backend) with its compiled loss.

    Args:
        model: a compiled ``keras.Model`` on the torch backend (cloned with its weights).
        x, y: training arrays; ``validation_data``: ``(x_val, y_val)`` (default: x, y).
        batch_size, epochs: as you would pass to ``fit``.
        name: the task's label (default: the model's name).
        schedule: the schedule shape (default: from the optimizer's LR schedule).

    Raises:
        ConfigError: not compiled, not the torch backend, or an optimizer without a
            torch twin.
    """
    keras = require("keras", extra="keras")
    torch = require("torch", extra="torch")
    if keras.backend.backend() != "torch":
        raise ConfigError(f"keras backend = {keras.backend.backend()!r}: task_from_keras "
                          "trains with torch; set KERAS_BACKEND=torch before importing keras")
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", False):
        raise ConfigError("model: is not compiled; call model.compile(optimizer=..., "
                          "loss=...) first")
    inner = getattr(model.optimizer, "inner_optimizer", model.optimizer)
    config = inner.get_config()
    rate = config.get("learning_rate")
    if schedule is None and isinstance(rate, Mapping):
        from lrkit.interop import from_keras

        cls_name = rate.get("class_name")
        params = dict(rate.get("config", {}))
        params.pop("name", None)
        schedule = _spec_or_none(lambda: from_keras(str(cls_name), **params))
    if isinstance(rate, Mapping):
        config = {**config, "learning_rate": 1.0}
    make_optimizer = _torch_twin(type(inner).__name__, config)
    weights = model.get_weights()

    def build() -> Any:
        clone = keras.models.clone_model(model)
        clone.set_weights(weights)
        clone.compile(optimizer=keras.optimizers.SGD(), loss=model.loss)
        return clone

    def forward(net: Any, batch: Any) -> Any:
        xb, yb = batch
        return net.compute_loss(x=xb, y=yb, y_pred=net(xb, training=True))

    def tensors(a: Any, b: Any) -> Any:
        return torch.utils.data.TensorDataset(torch.as_tensor(a), torch.as_tensor(b))

    val = tensors(*validation_data) if validation_data is not None else tensors(x, y)
    return Task(name=name or model.name, model=build, optimizer=make_optimizer, loss_fn=None,
                forward=forward, train_data=tensors(x, y), val_data=val,
                batch_size=batch_size, epochs=epochs, schedule=schedule)
