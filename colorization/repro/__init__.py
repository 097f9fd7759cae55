"""Reproducing the paper: the papermill pipeline (``pipeline``) and the hand-over
between its notebooks (``handover``)."""
