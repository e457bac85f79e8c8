"""Python side of the web worker: the page's commands, each a thin call into nncore.lab.

worker.js runs this file once, then calls `dispatch(command, json_text) -> json_text`.
Answers are {"result": ...} or {"error": {"message", "field"?, "index"?}}; nothing here
lets a traceback reach the page. Byte arrays (canvas pixels, model files, the 28x28
preview) are files in Pyodide's file system, written or read by the worker.

Loading comes in two parts, so the page is Ready sooner: setup() imports nncore and makes
the session (all the first view needs); load_data() reads the MNIST subset and the
pretrained weights, whose .npz files the worker writes into the package after Ready. Until
then a command that needs them is held back by the worker, never refused here.

Everything a run does (the experiment, stepping, pause / step / stop, the verdict, the
chart rows) is nncore.lab's, exactly as in the Streamlit app: this file only moves JSON.
It runs on Pyodide 0.17 too: Python 3.8 and NumPy 1.17.
"""
import json
import sys
import time
import zipfile

import numpy as np

PRETRAINED_NAMES = ("mnist-mlp", "mnist-cnn")

nncore = None  # imported by setup(), with the lab modules below
lab = None
state = {
    "session": None,  # the nncore.lab.Session of this page
    "pretrained": {},  # name -> Network
    "mnist": None,  # (x_train, y_train, x_test, y_test) once load_data() has read them
    "mnist_error": "the MNIST digits are not loaded yet",
}


class Refusal(Exception):
    """A request that cannot be served, with a message for a person."""


def dispatch(command, arguments_json):
    handler = COMMANDS.get(command)
    if handler is None:
        return json.dumps({"error": {"message": "unknown command %r" % (command,)}})
    try:
        result = handler(**json.loads(arguments_json))
        return json.dumps({"result": result}, default=_plain)
    except Exception as error:  # every failure becomes a message, never a traceback
        return json.dumps({"error": describe_error(error)}, default=_plain)


def describe_error(error):
    """{"message"} plus "index" (0-based) for a SpecError, "field" for an ExperimentError."""
    if nncore is not None and isinstance(error, nncore.SpecError):
        return {"message": str(error), "reason": error.message, "index": error.index}
    if lab is not None and isinstance(error, lab.ExperimentError):
        return {"message": str(error), "field": error.field}
    if isinstance(error, (Refusal, ValueError)):
        return {"message": str(error)}
    return {"message": "%s: %s" % (type(error).__name__, error)}


def _plain(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError("not JSON: %r" % (value,))


# ---------------------------------------------------------------- loading


def setup(archive, directory):
    """Unpack nncore.zip into `directory`, put it on sys.path, import nncore and its lab and
    make the page's session. The lab's backprop and inside modules are imported when first
    used (the Draw and Inside tabs), not before Ready."""
    global nncore, lab
    with zipfile.ZipFile(archive) as package:
        package.extractall(directory)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    import nncore as imported
    import nncore.lab

    nncore, lab = imported, nncore.lab
    state["session"] = lab.Session(mnist=_mnist)
    return {"nncore": getattr(nncore, "__version__", "unknown")}


def load_data():
    """The MNIST subset and the pretrained models, from the package's data files; each may
    be missing (then say why)."""
    from nncore import datasets, pretrained

    answer = {"mnist": None, "mnist_error": None, "pretrained": [], "pretrained_error": None}
    state["mnist"] = None
    try:
        state["mnist"] = datasets.load_mnist_uint8()
        answer["mnist"] = {"train": len(state["mnist"][0]), "test": len(state["mnist"][2])}
    except Exception as error:
        state["mnist_error"] = answer["mnist_error"] = "MNIST is unavailable (%s)" % (error,)
    errors = []
    for name in PRETRAINED_NAMES:
        try:
            state["pretrained"][name] = pretrained.load(name)
            answer["pretrained"].append(name)
        except Exception as error:
            errors.append("%s: %s" % (name, error))
    if errors:
        answer["pretrained_error"] = "pretrained models unavailable (%s)" % "; ".join(errors)
    return answer


def _mnist():
    """The session's MNIST loader: the digits load_data() read (the session keeps them)."""
    if state["mnist"] is None:
        raise Refusal("%s, so only the 2-D problems can be trained" % (state["mnist_error"],))
    return state["mnist"]


def _lab_module(name):
    """nncore.lab.backprop or nncore.lab.inside, imported on first use."""
    import importlib

    return importlib.import_module("nncore.lab." + name)


def session():
    if state["session"] is None:
        raise Refusal("Python is still loading")
    return state["session"]


# ---------------------------------------------------------------- the experiment


def summary_rows(spec):
    """The Build summary of a stack, from its shapes alone (nothing is allocated)."""
    input_shape, layers = nncore.spec.parse(spec)
    shapes, total = nncore.spec.infer_shapes(layers, input_shape)
    rows, shape = [], input_shape
    for index, (layer, output_shape) in enumerate(zip(layers, shapes)):
        rows.append({"index": index, "layer": repr(layer), "type": layer.type,
                     "output_shape": list(output_shape),
                     "parameters": layer.count_parameters(shape)})
        shape = output_shape
    return {"rows": rows, "parameters": total, "input_shape": list(input_shape),
            "output_shape": list(shapes[-1])}


def describe(experiment):
    """What the page shows of an experiment as it is being edited.

    {"summary": the stack's table or None, "problem": why it cannot train or None,
     "experiment": the checked experiment or None, "link": its URL text or None}.
    A bad stack is a SpecError naming its layer (0-based "index"), so the builder can put
    the message in that layer's box; any other setting is an ExperimentError naming its field.
    """
    answer = {"summary": None, "problem": None, "experiment": None, "link": None}
    try:
        answer["summary"] = summary_rows(experiment.get("spec"))
        checked = lab.experiment.check(experiment)
    except Exception as error:
        answer["problem"] = describe_error(error)
        return answer
    answer["experiment"] = checked
    answer["link"] = lab.experiment.encode(checked)
    return answer


def default(preset):
    return lab.experiment.default(preset)


def decode(text):
    return lab.experiment.decode(text)


def code(experiment, language):
    """The experiment as a script (nncore.lab.code): "python" (nncore) or "pytorch"."""
    from nncore.lab import code as code_module

    writers = {"python": code_module.as_python, "pytorch": code_module.as_pytorch}
    if language not in writers:
        raise Refusal("unknown language %r" % (language,))
    return {"text": writers[language](experiment),
            "note": code_module.run_note(session(), experiment) if language == "python"
            else None}


# ---------------------------------------------------------------- the session


def train(experiment):
    session().train(experiment)
    return session().report()


def continue_training(experiment):
    session().continue_training(experiment)
    return session().report()


def step_epoch(experiment):
    session().step_epoch(experiment)
    return session().report()


def pause():
    session().pause()
    return session().report()


def resume():
    session().resume()
    return session().report()


def stop():
    session().stop()
    return session().report()


def speed(name):
    if name not in lab.SPEEDS:
        raise Refusal("unknown speed %r" % (name,))
    session().speed = lab.SPEEDS[name]
    return session().report()


def step(seconds):
    """Train (or score test digits) for about `seconds`, then say where the run stands."""
    return session().step(seconds)


def report():
    return session().report()


def rows():
    """Every chart's rows of the current model (nncore.lab.views.rows), with the version
    they were drawn at, so the page asks again only when the session moved on."""
    current = session()
    result = current.rows()
    result["version"] = current.version
    return result


# ---------------------------------------------------------------- drawing


def predict(path, preview, width, height, model):
    """RGBA canvas pixels (a file) -> digit, probabilities, sure and the message to show;
    the 28x28 image goes to `preview`."""
    network = choose_model(model)
    pixels = np.frombuffer(open(path, "rb").read(), dtype=np.uint8)
    image = pixels.reshape(int(height), int(width), 4)
    start = time.time()
    # the 28x28 image, the probabilities, the answer or "not sure" and every layer's output:
    # nncore.lab.reading, as in the Streamlit app
    drawing = _lab_module("reading").read_drawing(network, image)
    if drawing is None:
        return {"digit": None, "message": "Draw a digit in the box"}
    with open(preview, "wb") as handle:
        handle.write(drawing["digit_image"].astype(np.float32).tobytes())
    answer, views = drawing["reading"], drawing["views"]
    return {"digit": answer["digit"], "confidence": answer["confidence"],
            "sure": answer["sure"], "message": answer["message"],
            "probabilities": drawing["probabilities"],
            "views": views, "rows": drawing["rows"],
            "predict_seconds": time.time() - start}


def choose_model(model):
    if model == "trained":
        if session().network is None:
            raise Refusal("no trained model yet: train an MNIST network, import a model, "
                          "or pick a pretrained one")
        return session().network
    if model in state["pretrained"]:
        return state["pretrained"][model]
    if model in PRETRAINED_NAMES:
        raise Refusal("the pretrained model %r did not load in this page" % (model,))
    raise Refusal("unknown model %r" % (model,))


# ---------------------------------------------------------------- backprop, step by step


def walk(model, experiment, index):
    """One sample through the chosen network, forward and backward (nncore.lab.backprop).

    model: "yours" (the session's model, else the Build stack with fresh weights) or a
    pretrained name; index: the XOR point (0..3) or the test digit (0..9999)."""
    backprop = _lab_module("backprop")
    if model == "yours":
        network, words = backprop.yours(session(), experiment)
    else:
        network, words = choose_model(model), nncore.pretrained.LABELS[model]
    # your model, trained on a 2-D problem: walk one of that problem's test points
    plane = session().plane if network is session().network else None
    dataset = backprop.dataset_for(network, plane)
    if dataset is None:
        raise Refusal(backprop.unwalkable(network))
    mnist = session().mnist() if dataset == "mnist" else None
    x, y, sample_words = backprop.sample(network, dataset, int(index), mnist=mnist,
                                         plane=plane)
    walked = backprop.walk(network, x, y)
    walked.update(dataset=dataset, sample=sample_words, model=words,
                  chooser=backprop.chooser(dataset, plane, mnist=mnist),
                  headline=backprop.headline(words, walked, sample_words))
    return walked


# ---------------------------------------------------------------- files


def model_summary():
    network = session().network
    if network is None:
        return None
    return {"origin": session().origin, "summary": summary_rows(network.to_spec()),
            "spec": network.to_spec()}


def export_model(path):
    network = session().network
    if network is None:
        raise Refusal("nothing to export yet: train a model (or import one) first")
    data = nncore.io.to_bytes(network)
    with open(path, "wb") as handle:
        handle.write(data)
    return {"size": len(data), "origin": session().origin}


def import_model(path, name, experiment):
    """A model file becomes the session's model; the experiment follows it (its stack, its
    data set, its training settings), so Continue trains it on."""
    with open(path, "rb") as handle:
        data = handle.read()
    network = nncore.io.from_bytes(data)
    session().use_model(network, "imported from %s" % (name,))
    return {"experiment": lab.experiment.for_model(experiment, network),
            "model": model_summary(), "name": name}


def model_info():
    return {"model": model_summary()}


COMMANDS = {
    "setup": setup,
    "load_data": load_data,
    "describe": describe,
    "default": default,
    "decode": decode,
    "code": code,
    "train": train,
    "continue": continue_training,
    "step_epoch": step_epoch,
    "pause": pause,
    "resume": resume,
    "stop": stop,
    "speed": speed,
    "step": step,
    "report": report,
    "rows": rows,
    "predict": predict,
    "walk": walk,
    "export_model": export_model,
    "import_model": import_model,
    "model_info": model_info,
}
