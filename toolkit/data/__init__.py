"""Data adapters: turn lists, arrays, tables, datasets, folders and tfds names into examples."""

from toolkit.data.examples import Examples
from toolkit.data.pipeline import make_dataset
from toolkit.data.splits import train_validation_split

__all__ = ["Examples", "make_dataset", "train_validation_split"]
