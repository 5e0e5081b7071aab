"""Runs a PyNN script with `pyNN.apical` importable, without the installed
name hook (e.g. from the build tree):

    PYTHONPATH=build/python python3 -m apical.pynn script.py [arguments]
"""
import runpy
import sys

import _apical_pynn  # noqa: F401

if len(sys.argv) < 2:
    sys.exit("usage: python3 -m apical.pynn SCRIPT.py [ARGUMENTS]")
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
