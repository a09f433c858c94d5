"""lrkit where people already train: Lightning, the Hugging Face Trainer, Keras, plain loops.

One module per framework, each behind its own extra and imported on its own (importing
this package imports none of them):

* ``lrkit.integrations.torch``: ``find(model, optimizer, loss_fn, loader)`` (DDP-aware)
  and ``Doctor`` for a loop of your own;
* ``lrkit.integrations.lightning``: ``find(trainer, module, datamodule)``,
  ``LRDoctor`` (a Lightning ``Callback``), ``task_from_lightning``;
* ``lrkit.integrations.transformers``: ``find(trainer)``, ``LRDoctorCallback``,
  ``task_from_trainer``;
* ``lrkit.integrations.keras``: ``find(model, x, y)``, ``LRDoctorCallback``,
  ``task_from_keras``.

Every ``find`` drives the same range test (``lrkit.rangetest.runner.Sweep``) through the
framework's own training step, restores what it touched and returns the
``RangeTestResult`` that ``lrkit find`` returns. Every doctor runs ``lrkit.diagnose``'s
detectors on the run's own curve while it trains (``lrkit.integrations.doctor``).

>>> from lrkit.integrations.doctor import Doctor
>>> Doctor().findings
()
"""

__all__: list[str] = []
