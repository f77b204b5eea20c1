"""MLflow "models from code" entry point: logged as the pyfunc's ``python_model`` file, so the model is
rebuilt from code at load time and nothing is pickled. Needs riskml installed where it is loaded."""

from mlflow.models import set_model

from riskml.serving.pyfunc import RiskPyfunc

set_model(RiskPyfunc())
