"""Evaluation metrics: plain functions of predictions and ground truths, no framework state.

Datasets call them from ``evaluate``; each returns a ``dict[str, float]`` with MMOCR's keys.
"""
