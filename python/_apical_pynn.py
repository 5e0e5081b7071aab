"""Makes `import pyNN.apical` import apical.pynn, the PyNN backend shipped
inside apical's package. Imported at interpreter start by apical_pynn.pth
(installed next to the package), so it only registers a finder: apical and
PyNN are imported when a script asks for pyNN.apical.
"""
import importlib
import importlib.abc
import importlib.machinery
import sys

NAME = "pyNN.apical"
TARGET = "apical.pynn"


class _Loader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass


class _Finder(importlib.abc.MetaPathFinder):
    """pyNN.apical and its submodules (pyNN.apical.populations, ...) are the
    modules of apical.pynn under a second name."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == NAME or fullname.startswith(NAME + "."):
            return importlib.machinery.ModuleSpec(fullname,
                                                  _Loader(TARGET + fullname[len(NAME):]))
        return None


def install():
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())


install()
