"""The ``Task`` estimator: the fit/predict/evaluate/save/load skeleton every task shares.

A task module declares only what differs (how to read and encode its data, which
backbone and head to build, how to turn model outputs into predictions, which report
to make); this module owns the flow and the scikit-learn contract.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, ClassVar

import keras
import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from toolkit.data.checks import check_finite
from toolkit.data.examples import Examples
from toolkit.data.pipeline import make_dataset
from toolkit.data.splits import train_validation_split
from toolkit.evaluation.report import Report
from toolkit.training import loop
from toolkit.training.lr_finder import LRFinderResult, find_learning_rate
from toolkit.training.distribute import resolve_strategy
from toolkit.training.fingerprint import run_fingerprint
from toolkit.training.fine_tuning import fine_tuning_stages, transfer_weights
from toolkit.training.precision import dtype_policy, float32_outputs
from toolkit.training.replicas import predict_in_batches
from toolkit.training.schedules import check_schedule
from toolkit.training.seeding import set_seed

_TASKS: dict[str, type[Task]] = {}
_ALIASES: dict[str, str] = {}
#: True while :meth:`Task._architecture` builds a model whose weights come from elsewhere.
_WITHOUT_PRETRAINED: ContextVar[bool] = ContextVar("without_pretrained", default=False)


def register_task(name: str, aliases: tuple[str, ...] = ()) -> Callable[[type], type]:
    """Class decorator registering a :class:`Task` subclass under ``name``.

    Parameters
    ----------
    name : str
        What ``Task(name)``, ``toolkit.list_tasks()`` and the CLI call the task.
    aliases : tuple of str
        Other names ``Task(...)`` accepts for it.

    Returns
    -------
    callable
        The decorator; it sets the class's ``task_name`` and returns the class.
    """

    def decorator(cls: type[Task]) -> type[Task]:
        cls.task_name = name
        _TASKS[name] = cls
        for alias in aliases:
            _ALIASES[alias] = name
        return cls

    return decorator


def _register_builtin_tasks() -> None:
    """Import the ``tasks`` package, whose modules register the built-in tasks.

    Done on the first lookup rather than when :mod:`toolkit` is imported, which keeps
    that import light; Python's module cache makes every later call free.
    """
    import tasks  # noqa: F401


def get_task_class(name: str) -> type[Task]:
    """Return the task class registered as ``name`` (or one of its aliases)."""
    _register_builtin_tasks()
    if not isinstance(name, str) or _ALIASES.get(name, name) not in _TASKS:
        raise ValueError(
            f"Unknown task. Expected one of {list_tasks()}. Received: name={name!r}"
        )
    return _TASKS[_ALIASES.get(name, name)]


def list_tasks() -> list[str]:
    """List the registered task names.

    Examples
    --------
    >>> import toolkit
    >>> "sentiment" in toolkit.list_tasks()
    True
    """
    _register_builtin_tasks()
    return sorted(_TASKS)


class _TaskFactory(type):
    """Lets ``Task("sentiment", **params)`` return a ``SentimentTask``.

    Doing this in the metaclass rather than ``__new__`` keeps Python from calling
    ``__init__`` a second time with the name string.
    """

    def __call__(cls, *args, **params):
        if cls is Task:
            if len(args) != 1:
                raise TypeError(
                    "Task() takes the task name as its only positional argument, "
                    f"e.g. Task('sentiment', epochs=3). Received: args={args!r}"
                )
            return get_task_class(args[0])(**params)
        return super().__call__(*args, **params)


class Task(BaseEstimator, metaclass=_TaskFactory):
    """Base class of every task, and the factory that builds them by name.

    ``Task(name, **params)`` returns an instance of the registered subclass; see
    :func:`list_tasks`. Subclasses are scikit-learn estimators: ``__init__`` stores its
    arguments unchanged, everything learned in ``fit`` ends in ``_``.

    Examples
    --------
    >>> from toolkit import Task
    >>> task = Task("image_classification", backbone="lenet", epochs=1)
    >>> type(task).__name__
    'ImageClassificationTask'
    """

    task_name: ClassVar[str] = ""
    #: Parameters that are code, not data, and so are not written to ``task.json``.
    unsaved_params: ClassVar[tuple[str, ...]] = ("callbacks", "distribute")

    # ------------------------------------------------------------------ hooks
    # A task module implements these; the flow below calls them.

    def _read(self, X: Any, y: Any = None, *, training: bool) -> Examples:
        """Turn user input into :class:`Examples` (validated, raw)."""
        raise NotImplementedError

    def _fit_preprocessing(self, examples: Examples) -> None:
        """Learn vocabularies, label maps, shapes from the training examples."""
        raise NotImplementedError

    def _check_targets(self, examples: Examples) -> None:
        """Raise ``ValueError`` if the training targets leave nothing to learn (no box,
        no entity); ``fit``, ``fine_tune`` and ``lr_find`` call it on what they train on."""

    def _encode(self, examples: Examples) -> tuple[Any, Any]:
        """Return ``(inputs, targets)`` arrays the model consumes (targets may be None)."""
        raise NotImplementedError

    def _check_params(self) -> None:
        """Raise ``ValueError`` naming a parameter whose value is invalid whatever the
        data (a size, a rate, a choice). ``fit`` and ``lr_find`` call it before reading any
        data, ``load`` on the parameters read from ``task.json``."""

    def _build_model(self) -> keras.Model:
        """Build the Keras model (preprocessing layers, backbone, head); pretrained
        weights named by a parameter are read through :meth:`_pretrained`."""
        raise NotImplementedError

    def _loss(self) -> Any:
        raise NotImplementedError

    def _metrics(self) -> list:
        return []

    def _decode(self, outputs: np.ndarray) -> Any:
        """Turn model outputs into user-facing predictions."""
        raise NotImplementedError

    def _report(self, examples: Examples, outputs: np.ndarray) -> Report:
        raise NotImplementedError

    def _headline_metric(self, report: Report) -> float:
        raise NotImplementedError

    def _training_stages(
        self, fine_tuning: bool, epochs: int | None = None, learning_rate: float | None = None
    ) -> list[loop.Stage]:
        """The training stages: one plain stage, or, when ``fit`` starts from a
        pretrained backbone (:meth:`_pretrained_layer_groups`), the stages of the
        task's ``fine_tuning`` mode.

        ``fine_tune`` continues in one stage at ``FINE_TUNE_LR_FACTOR`` of the rate,
        unless it is given ``epochs``/``learning_rate``.
        """
        layer_groups = None if fine_tuning else self._pretrained_layer_groups()
        if layer_groups is not None:
            backbone = next(layer for layer in self.model_.layers if isinstance(layer, keras.Model))
            return fine_tuning_stages(
                self.fine_tuning, backbone_name=backbone.name, layer_groups=layer_groups,
                epochs=self._check_positive_int("epochs", self.epochs),
                learning_rate=self._learning_rate(),
            )
        epochs = self._check_positive_int("epochs", self.epochs if epochs is None else epochs)
        if learning_rate is not None:
            learning_rate = self._check_positive_float("learning_rate", learning_rate)
        else:
            learning_rate = self._learning_rate() * (
                loop.FINE_TUNE_LR_FACTOR if fine_tuning else 1.0
            )
        return [loop.Stage(name="train", epochs=epochs, learning_rate=learning_rate)]

    def _pretrained_layer_groups(self) -> list | None:
        """The layer groups (bottom to top) of the model's backbone (its first nested
        model) when ``fit`` starts from pretrained weights, else ``None``."""
        return None

    def _learning_rate(self) -> float:
        """The peak learning rate (a task may resolve an ``"auto"`` default here)."""
        return self._check_positive_float("learning_rate", self.learning_rate)

    def _recurrent(self) -> bool:
        """Whether the model benefits from gradient clipping."""
        return False

    def _sequence_lengths(self, inputs: Any) -> np.ndarray | None:
        """Real lengths of right-padded sequence inputs, so training batches are cut
        to their longest sequence (see :func:`~toolkit.data.pipeline.make_dataset`)."""
        return None

    def _fitted_state(self) -> dict:
        """JSON-serializable fitted state other than the Keras model."""
        raise NotImplementedError

    def _restore_state(self, state: dict) -> None:
        raise NotImplementedError

    def _check_restored(self, source: str) -> None:
        """After loading: raise ``ValueError`` if the restored state does not fit the
        model read from ``source`` (a ``task.json`` edited by hand, say)."""

    def _check_saved_size(self, source: str, what: str, saved: int, layer: str,
                          attribute: str) -> None:
        """``saved`` (the size of a vocabulary, a tag set) must equal ``attribute`` of the
        model's (possibly nested) layer named ``layer``."""
        found = _find_layer(self.model_, layer)
        if found is None:
            raise ValueError(f"{source!r} does not match its model: the model has no layer "
                             f"{layer!r} for {what}.")
        if getattr(found, attribute) != saved:
            raise ValueError(f"{source!r} does not match its model: {what} holds {saved} "
                             f"entries, the model's layer {layer!r} expects "
                             f"{getattr(found, attribute)}.")

    # -------------------------------------------------------------- public API

    def fit(self, X: Any, y: Any = None, *, validation_data: tuple | None = None) -> Task:
        """Train a new model from scratch on ``X`` (and ``y``).

        Parameters
        ----------
        X : array-like, pandas DataFrame, tf.data.Dataset, path or "tfds:NAME"
            Training inputs; see the task's documentation for accepted forms.
        y : array-like, optional
            Targets, unless ``X`` carries them (dataset, table, folder, tfds).
        validation_data : tuple, optional
            ``(X_val, y_val)`` used instead of holding out ``validation_split``.

        Returns
        -------
        self
        """
        set_seed(self.seed)
        self._forget_fit()  # nothing learned before (sizes, labels, rates) carries over
        try:
            self._check_params()
            train, validation = self._read_training(X, y, validation_data)
            self._check_targets(train)
            self._fit_preprocessing(train)
            self.strategy_ = resolve_strategy(getattr(self, "distribute", None))
            self.model_ = self._new_model()
            self.history_ = self._fit_model(train, validation)
        except BaseException:
            # A failed fit (bad input, divergence, an interrupt) leaves an unfitted
            # task, not a half-built one that predicts from NaN or stale weights.
            self._forget_fit()
            raise
        return self

    def _forget_fit(self) -> None:
        """Drop every fitted attribute (the names ending in ``_``)."""
        for name in [name for name in vars(self) if name.endswith("_")]:
            delattr(self, name)

    def _fit_model(self, train: Examples, validation: Examples | None) -> dict:
        """Train the new ``model_`` from scratch and return its history (a task that
        can solve its model in closed form does so here)."""
        return self._train(train, validation, self._training_stages(fine_tuning=False))

    def fine_tune(
        self,
        X: Any,
        y: Any = None,
        *,
        epochs: int | None = None,
        learning_rate: float | None = None,
        validation_data: tuple | None = None,
    ) -> Task:
        """Continue training the fitted model on new data, with a lower learning rate.

        Vocabularies and label maps learned by ``fit`` are kept, so the new data must
        use known labels.

        Parameters
        ----------
        X, y : as in :meth:`fit`
        epochs : int, optional
            Defaults to the task's ``epochs``.
        learning_rate : float, optional
            Defaults to ``learning_rate`` times ``0.1``.
        validation_data : tuple, optional
            As in :meth:`fit`.

        Returns
        -------
        self
        """
        self._check_fitted()
        stages = self._training_stages(fine_tuning=True, epochs=epochs,
                                       learning_rate=learning_rate)
        set_seed(self.seed)
        train, validation = self._read_training(X, y, validation_data)
        self._check_targets(train)
        with self._kept_on_failure():
            history = self._train(train, validation, stages)
        self.history_ = loop.merge_histories(self.history_, history)
        return self

    def _fine_tune_new_head(
        self, X, y, validation_data, *, epochs, learning_rate, fit_targets, head_layers,
        backbone_name, layer_groups,
    ) -> Task:
        """``fine_tune`` onto a new label set: refit the targets, swap in an untrained
        head (every layer but ``head_layers`` keeps its weights) and train it with the
        shared gradual schedule (head first, then the body at a lower rate)."""
        self._check_fitted()
        epochs = self._check_positive_int("epochs", self.epochs if epochs is None else epochs)
        learning_rate = self._check_positive_float(
            "learning_rate", self._learning_rate() if learning_rate is None else learning_rate
        )
        set_seed(self.seed)
        train, validation = self._read_training(X, y, validation_data)
        self._check_targets(train)
        with self._kept_on_failure():
            previous = self.model_
            fit_targets(train)
            self.model_ = self._new_model()
            transfer_weights(previous, self.model_, skip=head_layers)
            stages = fine_tuning_stages("gradual", backbone_name=backbone_name,
                                        layer_groups=layer_groups, epochs=epochs,
                                        learning_rate=learning_rate)
            history = self._train(train, validation, stages)
        self.history_ = loop.merge_histories(self.history_, history)
        return self

    @contextmanager
    def _kept_on_failure(self):
        """Put the fitted model and state back if the block fails (a diverged
        ``fine_tune`` must not leave NaN weights in a task that still looks fitted)."""
        model, weights, state = self.model_, self.model_.get_weights(), self._fitted_state()
        try:
            yield
        except BaseException:
            model.set_weights(weights)
            self.model_ = model
            self._restore_state(state)
            raise

    def predict(self, X: Any) -> Any:
        """Predict on raw inputs (texts, images, paths, ...).

        Parameters
        ----------
        X : array-like, pandas DataFrame, tf.data.Dataset or path
            Inputs in any form ``fit`` accepts; labels they carry are ignored.

        Returns
        -------
        numpy.ndarray or list
            One prediction per input, in the task's terms (class names, tag lists,
            boxes, masks, forecasts); see the task's documentation.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            If ``X`` is empty or not a form the task reads.
        """
        return self._decode(self._outputs(self._read(X, training=False)))

    def evaluate(self, X: Any, y: Any = None) -> Report:
        """Score the fitted model on labelled data.

        Parameters
        ----------
        X : array-like, pandas DataFrame, tf.data.Dataset or path
            Inputs in any form ``fit`` accepts.
        y : array-like, optional
            Targets, unless ``X`` carries them.

        Returns
        -------
        Report
            ``metrics`` (a dict), ``plot()``, ``to_markdown()``, ``to_json()`` and
            ``save(directory)``; its ``history`` is the training history.
        """
        examples = self._read(X, y, training=True)
        report = self._report(examples, self._outputs(examples))
        report.history = dict(getattr(self, "history_", {}) or {})
        return report

    def score(self, X: Any, y: Any = None) -> float:
        """The task's headline metric on ``X``/``y``, higher being better (what
        scikit-learn's model selection maximises).

        Parameters
        ----------
        X, y :
            As for :meth:`evaluate`.

        Returns
        -------
        float
            By task: accuracy, entity F1, mean IoU, COCO mAP (AP@[.5:.95]), 1 - WER,
            or minus the MAE.
        """
        return self._headline_metric(self.evaluate(X, y))

    def lr_find(
        self,
        X: Any,
        y: Any = None,
        *,
        min_lr: float = 1e-6,
        max_lr: float = 1.0,
        steps: int = 100,
    ) -> LRFinderResult:
        """Run the learning-rate range test (Smith, 2017) on a fresh model.

        The learning rate grows exponentially from ``min_lr`` to ``max_lr`` over
        ``steps`` batches while the loss is recorded; the test stops early once the loss
        diverges. It trains a throwaway model: the task's own fitted state, if any, is
        left as it was.

        Returns
        -------
        LRFinderResult
            ``learning_rates``, ``losses``, ``suggestion`` and ``plot()``.

        Examples
        --------
        >>> result = task.lr_find(texts, labels)          # doctest: +SKIP
        >>> task.set_params(learning_rate=result.suggestion).fit(texts, labels)  # doctest: +SKIP
        """
        steps = self._check_positive_int("steps", steps)
        if not self._check_positive_float("min_lr", min_lr) < self._check_positive_float(
                "max_lr", max_lr):
            raise ValueError(f"min_lr must be below max_lr. Received: min_lr={min_lr!r}, "
                             f"max_lr={max_lr!r}")
        fitted = {name: value for name, value in vars(self).items() if name.endswith("_")}
        set_seed(self.seed)
        self._forget_fit()  # read and build as a new fit would
        try:
            self._check_params()
            examples = self._read(X, y, training=True)
            self._check_targets(examples)
            self._fit_preprocessing(examples)
            model = self._new_model()
            inputs, targets = self._training_arrays(examples)
            dataset = make_dataset(
                inputs, targets, batch_size=self.batch_size, shuffle=True, seed=self.seed,
                lengths=self._sequence_lengths(inputs), min_batch=self._replicas(examples),
            )
            with self._strategy().scope():
                result = find_learning_rate(
                    model,
                    dataset,
                    loss=self._loss(),
                    min_lr=min_lr,
                    max_lr=max_lr,
                    steps=steps,
                    clipnorm=loop.CLIPNORM if self._recurrent() else None,
                )
        finally:  # the test must not change what the task has learned
            self._forget_fit()
            vars(self).update(fitted)
        return result

    def save(self, directory: str | Path) -> Path:
        """Save the fitted task to ``directory``: ``model.keras`` (the Keras model,
        preprocessing layers included) and ``task.json`` (parameters, labels,
        vocabulary, versions). No pickle.

        Parameters
        ----------
        directory : str or Path
            Created if missing; files of an earlier save there are replaced.

        Returns
        -------
        Path
            ``directory``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        from toolkit.saving import save_task

        self._check_fitted()
        return save_task(self, directory)

    @classmethod
    def load(cls, directory: str | Path) -> Task:
        """Load a task saved by :meth:`save`; never runs code from the files (Keras
        safe mode, no pickle).

        Parameters
        ----------
        directory : str or Path
            A folder written by :meth:`save` (or ``toolkit fit --out``).

        Returns
        -------
        Task
            The fitted task, of the class named in ``task.json``; its ``predict`` on
            raw input equals the saved task's.

        Raises
        ------
        ValueError
            If a file is missing, damaged, or the model holds code (a ``Lambda``
            layer, an unregistered class).

        Examples
        --------
        >>> import tempfile
        >>> from toolkit import Task
        >>> from toolkit.data.samples import load_sentiment_sample
        >>> texts, labels = load_sentiment_sample(40)
        >>> task = Task("sentiment", epochs=1, verbose=0).fit(texts, labels)
        >>> folder = task.save(tempfile.mkdtemp())
        >>> list(Task.load(folder).predict(texts[:3])) == list(task.predict(texts[:3]))
        True
        """
        from toolkit.saving import load_task

        return load_task(directory)

    # -------------------------------------------------------------- internals

    def _stratify(self) -> bool:
        return False

    def _read_training(self, X, y, validation_data) -> tuple[Examples, Examples | None]:
        train = self._read(X, y, training=True)
        if len(train) == 0:
            raise ValueError("No training examples. Received: empty X")
        if validation_data is not None:
            validation = self._read(*_as_pair(validation_data), training=True)
            if len(validation) == 0:  # early stopping would be off, silently
                raise ValueError("No validation examples. Received: empty validation_data; "
                                 "pass None to hold out validation_split of X instead")
            return train, validation
        return self._split_validation(train)

    def _split_validation(self, train: Examples) -> tuple[Examples, Examples | None]:
        """Hold out ``validation_split`` of ``train``: shuffled (stratified if the task
        says so) by default; a task whose examples are ordered in time overrides this."""
        return train_validation_split(
            train, self.validation_split, seed=self.seed, stratify=self._stratify()
        )

    def _check_fitted(self) -> None:
        check_is_fitted(self, "model_")

    def _new_model(self) -> keras.Model:
        """``_build_model`` under the task's strategy and ``precision`` policy."""
        with self._strategy().scope(), dtype_policy(getattr(self, "precision", "float32")):
            return float32_outputs(self._build_model())

    def _architecture(self) -> keras.Model:
        """A new model as the parameters and fitted state describe it, built without
        reading pretrained weights (``load`` compares it with the saved model)."""
        token = _WITHOUT_PRETRAINED.set(True)
        try:
            return self._new_model()
        finally:
            _WITHOUT_PRETRAINED.reset(token)

    def _pretrained(self, name: str) -> Any:
        """The parameter ``name`` that names pretrained weights (``weights``,
        ``embeddings``), or ``None`` inside :meth:`_architecture`."""
        return None if _WITHOUT_PRETRAINED.get() else getattr(self, name)

    def _strategy(self):
        if getattr(self, "strategy_", None) is None:  # a loaded task, or lr_find first
            self.strategy_ = resolve_strategy(getattr(self, "distribute", None))
        return self.strategy_

    def _replicas(self, *example_sets: Examples | None) -> int:
        """The strategy's replica count; batches with fewer examples are dropped in
        training (a replica's empty share fails), so each set must hold that many."""
        replicas = self._strategy().num_replicas_in_sync
        batch_size = self._check_positive_int("batch_size", self.batch_size)
        if batch_size < replicas:
            raise ValueError(f"batch_size is the global batch, split over the {replicas} "
                             f"replicas of distribute=, so it must be at least {replicas}. "
                             f"Received: batch_size={batch_size}")
        for which, examples in zip(("training", "validation"), example_sets):
            if examples is not None and 0 < len(examples) < replicas:
                raise ValueError(f"The {which} data holds {len(examples)} example(s), fewer "
                                 f"than the {replicas} replicas of distribute=, each of which "
                                 "needs one per step.")
        return replicas

    def _outputs(self, examples: Examples) -> np.ndarray:
        self._check_fitted()
        if len(examples) == 0:
            raise ValueError("No examples to predict on. Received: empty X")
        inputs, _ = self._encode(Examples(examples.x))
        check_finite(inputs, "inputs")
        batch_size = self._check_positive_int("batch_size", self.batch_size)
        return predict_in_batches(self.model_, inputs, batch_size)

    def _train(
        self, train: Examples, validation: Examples | None, stages: list[loop.Stage]
    ) -> dict:
        settings = self._training_settings()
        batch_size = settings.pop("batch_size")
        inputs, targets = self._training_arrays(train)
        replicas = self._replicas(train, validation)
        train_ds = make_dataset(
            inputs, targets, batch_size=batch_size, shuffle=True, seed=self.seed,
            lengths=self._sequence_lengths(inputs), min_batch=replicas,
        )
        val_ds, val_arrays = None, None
        if validation is not None and len(validation):
            val_arrays = self._encode(validation)
            val_ds = make_dataset(*val_arrays, batch_size=batch_size,
                                  lengths=self._sequence_lengths(val_arrays[0]),
                                  min_batch=replicas)
        if settings["checkpoint_dir"] is not None:
            run = self._run_fingerprint(stages, [inputs, targets, val_arrays])
            settings["checkpoint_dir"] = Path(settings["checkpoint_dir"]) / f"run-{run}"
        with self._strategy().scope():
            return loop.run_stages(
                self.model_,
                stages,
                train_ds,
                val_ds,
                loss=self._loss(),
                metrics=self._metrics(),
                clipnorm=loop.CLIPNORM if self._recurrent() else None,
                verbose=self.verbose,
                **settings,
            )

    def _run_fingerprint(self, stages: list[loop.Stage], arrays: Any) -> str:
        """The name of this training run's folder in ``checkpoint_dir``: it changes with
        the parameters, the fitted state, the stages, the data and, for ``fine_tune``,
        the weights it starts from, so only a rerun of the same call resumes."""
        ignored = {*self.unsaved_params, "verbose", "checkpoint_dir"}
        description = {
            "task": self.task_name,
            "params": {k: v for k, v in self.get_params().items() if k not in ignored},
            "state": self._fitted_state(),
            "stages": [[stage.name, stage.epochs, stage.learning_rate] for stage in stages],
        }
        if hasattr(self, "history_"):  # fine_tune: continues from trained weights
            description["history"] = self.history_
            arrays = [arrays, self.model_.get_weights()]
        return run_fingerprint(description, arrays)

    def _training_arrays(self, examples: Any) -> tuple[Any, Any]:
        """``_encode(examples)``, refusing NaN or infinite inputs and targets."""
        inputs, targets = self._encode(examples)
        check_finite(inputs, "inputs")
        check_finite(targets, "targets")
        return inputs, targets

    def _training_settings(self) -> dict:
        """The gradient-training settings, checked: ``batch_size`` and the keywords of
        :func:`~toolkit.training.loop.run_stages` they set."""
        jit_compile = getattr(self, "jit_compile", "auto")
        if not (jit_compile is True or jit_compile is False or jit_compile == "auto"):
            raise ValueError("jit_compile must be True, False or 'auto'. "
                             f"Received: jit_compile={jit_compile!r}")
        return {
            "batch_size": self._check_positive_int("batch_size", self.batch_size),
            "steps_per_execution": self._check_positive_int(
                "steps_per_execution", getattr(self, "steps_per_execution", 1)),
            "weight_decay": self._check_non_negative_float("weight_decay", self.weight_decay),
            "sam_rho": self._check_non_negative_float("sam_rho", getattr(self, "sam_rho", 0.0)),
            "early_stopping": loop.check_early_stopping(self.early_stopping),
            "callbacks": loop.check_callbacks(self.callbacks),
            "jit_compile": jit_compile,
            "schedule": check_schedule(self.schedule),
            "checkpoint_dir": self._check_path("checkpoint_dir",
                                               getattr(self, "checkpoint_dir", None)),
        }

    def _check_settings(self, *, positive_ints: tuple = (), fractions: tuple = (),
                        flags: tuple = (), choices: dict | None = None,
                        column_names: tuple = (), paths: tuple = ()) -> None:
        """Check the named parameters: sizes are positive integers, rates in [0, 1),
        flags True or False, each of ``choices`` (``{name: valid values}``) one of its
        values, column names strings or None, paths a string, a path or None.

        Settings read only from some forms of data (a table's column names, a tfds
        folder) are checked on every fit, so a mistake shows before the form that
        reads them does."""
        for name in column_names:
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a column name (a string) or None. "
                                 f"Received: {name}={value!r}")
        for name in paths:
            self._check_path(name, getattr(self, name))
        for name in flags:
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False. "
                                 f"Received: {name}={getattr(self, name)!r}")
        for name in positive_ints:
            self._check_positive_int(name, getattr(self, name))
        for name in fractions:
            self._check_fraction(name, getattr(self, name))
        for name, valid in (choices or {}).items():
            value = getattr(self, name)
            if not isinstance(value, str) or value not in valid:
                raise ValueError(f"{name} must be one of {tuple(valid)}. "
                                 f"Received: {name}={value!r}")

    def _size(self, name: str, *, optional: bool = False) -> int | None:
        """The positive-integer parameter ``name`` as a Python ``int``: Keras layers (and
        JSON) refuse the NumPy integers a grid search over ``np.arange`` passes. With
        ``optional``, ``None`` (automatic) stays ``None``."""
        value = getattr(self, name)
        if optional and value is None:
            return None
        return self._check_positive_int(name, value)

    @staticmethod
    def _check_path(name: str, value: Any) -> str | os.PathLike | None:
        """A folder or file setting such as checkpoint_dir: a string, a path or None."""
        if value is not None and not isinstance(value, (str, os.PathLike)):
            raise ValueError(f"{name} must be a path (a string or pathlib.Path) or None. "
                             f"Received: {name}={value!r}")
        return value

    @staticmethod
    def _check_positive_int(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
        return int(value)

    @staticmethod
    def _check_non_negative_int(name: str, value: Any) -> int:
        """A count that may be zero, such as augment_copies."""
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer. Received: {name}={value!r}")
        return int(value)

    @staticmethod
    def _check_non_negative_float(name: str, value: Any) -> float:
        """A weight such as weight_decay: a finite number >= 0."""
        if (isinstance(value, bool) or not isinstance(value, (int, float, np.number))
                or not 0 <= value < np.inf):
            raise ValueError(f"{name} must be a number >= 0. Received: {name}={value!r}")
        return float(value)

    @staticmethod
    def _check_fraction(name: str, value: Any, *, one_allowed: bool = False) -> float:
        """A rate such as dropout: a number in [0, 1) (in [0, 1] with ``one_allowed``,
        for a threshold)."""
        if (isinstance(value, bool) or not isinstance(value, (int, float, np.number))
                or not (0 <= value <= 1 if one_allowed else 0 <= value < 1)):
            interval = "[0, 1]" if one_allowed else "[0, 1)"
            raise ValueError(f"{name} must be a number in {interval}. Received: {name}={value!r}")
        return float(value)

    @staticmethod
    def _check_positive_float(name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise ValueError(f"{name} must be a positive number. Received: {name}={value!r}")
        if not (value > 0 and np.isfinite(value)):
            raise ValueError(f"{name} must be a positive number. Received: {name}={value!r}")
        return float(value)


def _find_layer(model: keras.Model, name: str):
    """The layer called ``name`` in ``model`` or any model nested in it, or ``None``."""
    for layer in model.layers:
        if layer.name == name:
            return layer
        if isinstance(layer, keras.Model) and (found := _find_layer(layer, name)) is not None:
            return found
    return None


def _as_pair(validation_data: tuple) -> tuple:
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (1, 2):
        return tuple(validation_data) + (None,) * (2 - len(validation_data))
    raise ValueError(
        "validation_data must be a tuple (X_val, y_val) or (X_val,). "
        f"Received: validation_data of type {type(validation_data).__name__}"
    )
