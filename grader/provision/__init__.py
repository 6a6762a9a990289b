"""Bring up what the course needs on a machine: a Docker engine and the base image."""
