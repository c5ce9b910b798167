"""Preprocessing that travels with a model: labels, text vocabularies, image normalisation."""
