"""The code MLflow stores with every riskwarn model ("models from code"): it names the
``PythonModel`` to load, so nothing of ours is pickled into the model and no CloudPickle is
unpickled when it loads. The model's own state is plain files (``model.txt``,
``calibrator.json``, ``metadata.json``); the code it runs is the installed riskwarn package,
which must be importable where the model is loaded (see the model card)."""

from __future__ import annotations

from mlflow.models import set_model

from riskwarn.training._pyfunc import RiskPyfunc

set_model(RiskPyfunc())
