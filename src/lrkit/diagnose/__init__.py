"""Diagnosis: read a run's logs and say whether the learning rate is the problem.

``read_logs(path)`` reads TensorBoard, Lightning, Hugging Face, Keras, W&B, MLflow, CSV
and JSON-lines logs into :class:`Curve` objects; ``diagnose(path)`` runs every detector in
``DETECTORS`` over one run and projects the convergence epoch; the
:class:`Diagnosis` it returns holds :class:`Finding` objects with evidence, cause, action
and a corrected LR computed from the run's own LR. ``diagnose_runs(paths)`` judges the
runs of a sweep (one model at several LRs) against each other (:class:`Sweep`).

>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
>>> rows = "\\n".join(f"{s},{2.3 - 0.001 * s},0.0001" for s in range(200))
>>> _ = p.write_text("step,loss,lr\\n" + rows + "\\n")
>>> d = diagnose(p)
>>> d.verdict, [f.kind for f in d.findings], d.findings[0].suggested_lr
('too_low', ['lr_too_low'], 0.001)
"""

from lrkit.diagnose.convergence import Convergence, estimate_convergence
from lrkit.diagnose.curves import KINDS, Curve, classify
from lrkit.diagnose.detectors import DETECTORS
from lrkit.diagnose.diagnosis import Diagnosis, diagnose, diagnose_curves
from lrkit.diagnose.findings import SEVERITIES, Finding
from lrkit.diagnose.readers import READERS, detect_format, read_logs
from lrkit.diagnose.run_curves import RunCurves
from lrkit.diagnose.sweep import Sweep, SweepRun, diagnose_runs, diagnose_sweep

__all__ = [
    "DETECTORS",
    "KINDS",
    "READERS",
    "SEVERITIES",
    "Convergence",
    "Curve",
    "Diagnosis",
    "Finding",
    "RunCurves",
    "Sweep",
    "SweepRun",
    "classify",
    "detect_format",
    "diagnose",
    "diagnose_curves",
    "diagnose_runs",
    "diagnose_sweep",
    "estimate_convergence",
    "read_logs",
]
