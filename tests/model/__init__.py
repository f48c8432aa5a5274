"""Tests of the model artifact."""
