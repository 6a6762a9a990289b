"""Edited by the learner."""
